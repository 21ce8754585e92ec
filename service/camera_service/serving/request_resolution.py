"""An ``ImageRequest`` resolved to the ``OutputSpec`` to serve, or the status to answer.

The rules (documented in the README's Configuration section):
- ``image_format`` unset means JPEG; RLE (or anything else) falls back to the first JPEG/RAW
  entry of ``fallback_formats``, else ``STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED``.
- ``pixel_format`` unset means the camera's own (RGB for colour, GREYSCALE for grey, RGBA for
  a camera that gives alpha, and RGB for JPEG of a colour camera). RGB_U8 and GREYSCALE_U8
  always work; RGBA_U8 only as RAW from a camera that delivers alpha; anything else is
  ``STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED``.
- ``resize_ratio`` 0 or 1 is full size; outside [0, 1] is
  ``STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED``.
- A full-size colour JPEG request of a camera delivering JPEG gets the camera's bytes when
  the source's passthrough policy says so (``pipeline.passthrough``; by default always,
  whatever ``quality_percent``): quality 0 in the ``OutputSpec``, one output for all such
  requests.
- Otherwise ``quality_percent`` unset (0) means the camera's own JPEG quality when it
  delivers JPEG (estimated), else the source's ``jpeg_quality``; other values are clamped to
  1..100.
"""

from __future__ import annotations

from typing import List

from bosdyn.api import image_pb2

from camera_service.encoding.encoder import OutputSpec, scaled_size
from camera_service.encoding.passthrough import DEFAULT_POLICY, serves_camera_bytes
from camera_service.sources.base import Frame

Image = image_pb2.Image
Status = image_pb2.ImageResponse

FORMATS = {Image.FORMAT_JPEG: "jpeg", Image.FORMAT_RAW: "raw"}
LAYOUTS = {Image.PIXEL_FORMAT_RGB_U8: "rgb", Image.PIXEL_FORMAT_GREYSCALE_U8: "grey",
           Image.PIXEL_FORMAT_RGBA_U8: "rgba",
           # 16-bit sources only (sixteen_bit_requests); 8-bit sources refuse them
           Image.PIXEL_FORMAT_GREYSCALE_U16: "grey16", Image.PIXEL_FORMAT_DEPTH_U16: "depth16"}
PIXEL_FORMAT_OF_LAYOUT = {layout: pixel_format for pixel_format, layout in LAYOUTS.items()}
FORMAT_OF_NAME = {name: image_format for image_format, name in FORMATS.items()}


class RequestRejected(ValueError):
    """The request cannot be served; ``status`` is the ImageResponse status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def enum_name(enum, value: int) -> str:
    """The name of ``value`` in the proto ``enum``; a number a client made up (proto3 enums
    are open) is shown as such instead of raising."""
    try:
        return enum.Name(value)
    except ValueError:
        return f"{value} (not a known value)"


def supported_layouts(channels: int) -> List[str]:
    """Output layouts a camera with ``channels`` channels can be served in."""
    return ["rgb", "grey", "rgba"] if channels == 4 else ["rgb", "grey"]


def native_layout(channels: int) -> str:
    return {1: "grey", 4: "rgba"}.get(channels, "rgb")


def resolve_format(request: image_pb2.ImageRequest) -> str:
    """``"jpeg"`` or ``"raw"`` for the request; raises ``RequestRejected``."""
    if request.image_format == Image.FORMAT_UNKNOWN:
        return "jpeg"
    for candidate in [request.image_format, *request.fallback_formats]:
        if candidate in FORMATS:
            return FORMATS[candidate]
    name = enum_name(Image.Format, request.image_format)
    raise RequestRejected(Status.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
                          f"image format {name} is not supported; use FORMAT_JPEG or FORMAT_RAW")


def resolve_layout(request: image_pb2.ImageRequest, image_format: str, channels: int) -> str:
    """The output pixel layout; raises ``RequestRejected``."""
    if request.pixel_format == Image.PIXEL_FORMAT_UNKNOWN:
        layout = native_layout(channels)
        return "rgb" if image_format == "jpeg" and layout == "rgba" else layout
    layout = LAYOUTS.get(request.pixel_format)
    allowed = supported_layouts(channels)
    if image_format == "jpeg":
        allowed = [name for name in allowed if name != "rgba"]
    if layout not in allowed:
        name = enum_name(Image.PixelFormat, request.pixel_format)
        choices = ", ".join(Image.PixelFormat.Name(PIXEL_FORMAT_OF_LAYOUT[a]) for a in allowed)
        raise RequestRejected(Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
                              f"pixel format {name} is not available as {image_format.upper()} "
                              f"from this source; use {choices}")
    return layout


def check_resize_ratio(ratio: float) -> None:
    if not 0.0 <= ratio <= 1.0:
        raise RequestRejected(Status.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
                              f"resize_ratio {ratio:g} is outside [0, 1] (0 or 1 = full size)")


def resolve_output(request: image_pb2.ImageRequest, frame: Frame, channels: int,
                   default_quality: int, policy: str = DEFAULT_POLICY) -> OutputSpec:
    """The full ``OutputSpec`` for ``request`` served from ``frame``; raises ``RequestRejected``.

    ``channels`` is what the camera delivers (1, 3 or 4), ``default_quality`` the source's
    configured JPEG quality, ``policy`` its passthrough policy.
    """
    image_format = resolve_format(request)
    layout = resolve_layout(request, image_format, channels)
    check_resize_ratio(request.resize_ratio)
    width, height = scaled_size(frame.width, frame.height, request.resize_ratio)
    if image_format == "raw":
        return OutputSpec(image_format, layout, 0, width, height)
    requested = min(100.0, max(0.0, request.quality_percent))  # inf too; NaN is 0
    if frame.jpeg is not None and layout == "rgb" and (width, height) == (
            frame.width, frame.height) and serves_camera_bytes(policy, requested,
                                                               frame.jpeg_quality):
        return OutputSpec(image_format, layout, 0, width, height)
    if requested > 0:
        quality = round(max(1.0, requested))
    elif frame.jpeg is not None and frame.jpeg_quality is not None:
        quality = frame.jpeg_quality
    else:
        quality = default_quality
    return OutputSpec(image_format, layout, quality, width, height)
