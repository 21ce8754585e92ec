"""An ``ImageRequest`` parsed and validated once into the one spec the service serves, or
refused with a status and a one-line message.

``parse(request, capabilities)`` reads everything a request asks - image format, pixel
format, resize ratio, quality, a 16-bit source's view parameters, the camera controls in its
custom parameters - against what the camera's current open offers (``Capabilities``), in
this order, and stops at the first problem (``RequestRejected`` with the ImageResponse status,
or ``CustomParamsError`` with the proto error). The result, a ``RequestSpec``, is what the
rest of the path uses: its ``output`` (an ``encoding.OutputRequest``, fitted to the frame
served: size, passthrough, the camera's own quality) and its ``controls`` (validated values
to set on the camera). Nothing downstream reads the request again.

The rules (documented in the README's Configuration section):
- ``image_format`` unset means JPEG; RLE (or anything else) falls back to the first JPEG/RAW
  entry of ``fallback_formats``, else ``STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED``.
- 8-bit sources: ``pixel_format`` unset means the camera's own (RGB for colour, GREYSCALE for
  grey, RGBA for a camera that gives alpha, and RGB for JPEG of a colour camera). RGB_U8 and
  GREYSCALE_U8 always work; RGBA_U8 only as RAW from a camera that delivers alpha.
- 16-bit sources (thermal, depth): thermal (``visual``) serves RAW GREYSCALE_U16 (the values,
  big-endian), RAW GREYSCALE_U8 and RGB_U8 (the view), JPEG of the view as GREYSCALE_U8 or
  RGB_U8; depth serves RAW DEPTH_U16 (the values, little-endian, ``depth_scale`` on the
  source) and JPEG of the colourised view as RGB_U8 or GREYSCALE_U8, for viewing only. An
  unset pixel format means the values for RAW and the view for JPEG (RGB_U8 with a colour
  map, GREYSCALE_U8 without). The view parameters (``view_params``) are the request's; the
  other custom parameters are the camera's controls.
- Any other pixel format is ``STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED``, naming the ones
  that work.
- ``resize_ratio`` 0 or 1 is full size; outside [0, 1] is
  ``STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED``.
- Quality and passthrough: see ``encoding.output_request``.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional

from bosdyn.api import image_pb2
from bosdyn.api import service_customization_pb2 as sc

from camera_service.core.sixteen_bit import DEPTH, NO_COLORMAP, SixteenBitProfile, ViewSettings
from camera_service.encoding.output_request import OutputRequest
from camera_service.encoding.passthrough import DEFAULT_POLICY
from camera_service.serving import view_params
from camera_service.serving.custom_params import requested_values
from camera_service.sources.base import ControlValue

Image = image_pb2.Image
Status = image_pb2.ImageResponse

FORMATS = {Image.FORMAT_JPEG: "jpeg", Image.FORMAT_RAW: "raw"}
LAYOUTS = {Image.PIXEL_FORMAT_RGB_U8: "rgb", Image.PIXEL_FORMAT_GREYSCALE_U8: "grey",
           Image.PIXEL_FORMAT_RGBA_U8: "rgba",
           # 16-bit sources only; 8-bit sources refuse them
           Image.PIXEL_FORMAT_GREYSCALE_U16: "grey16", Image.PIXEL_FORMAT_DEPTH_U16: "depth16"}
PIXEL_FORMAT_OF_LAYOUT = {layout: pixel_format for pixel_format, layout in LAYOUTS.items()}
FORMAT_OF_NAME = {name: image_format for image_format, name in FORMATS.items()}


class RequestRejected(ValueError):
    """The request cannot be served; ``status`` is the ImageResponse status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_NO_CONTROLS = sc.DictParam.Spec()  # read only


class Capabilities(NamedTuple):
    """What the camera's current open offers a request: ``channels`` it delivers (1, 3, 4),
    its 16-bit ``profile`` (None for 8-bit sources), the ``controls`` spec of its camera
    controls (read only), and the source's configured ``jpeg_quality`` and ``passthrough``
    policy. (Tuples: one is made per request.)"""

    channels: int = 3
    profile: Optional[SixteenBitProfile] = None
    controls: sc.DictParam.Spec = _NO_CONTROLS
    jpeg_quality: int = 75
    passthrough: str = DEFAULT_POLICY


class RequestSpec(NamedTuple):
    """One image request, parsed and validated: the ``output`` to fit to the frame served and
    the camera ``controls`` it sets (validated values by name; empty: it sets none)."""

    output: OutputRequest
    controls: Dict[str, ControlValue]


def parse(request: image_pb2.ImageRequest, capabilities: Capabilities) -> RequestSpec:
    """``request`` as a ``RequestSpec`` for a camera with ``capabilities``. Raises
    ``RequestRejected`` or ``CustomParamsError`` (the first problem found, see the module
    doc for the order)."""
    profile = capabilities.profile
    params = request.custom_params
    view: Optional[ViewSettings] = None
    if profile is not None:
        asked_view, params = view_params.split(params)
        view = view_params.requested_view(asked_view, profile)
    image_format = _format(request)
    if profile is None:
        layout = _layout(request, image_format, capabilities.channels)
    else:
        layout = _sixteen_bit_layout(request, image_format, profile, view)
    if not 0.0 <= request.resize_ratio <= 1.0:
        raise RequestRejected(Status.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
                              f"resize_ratio {request.resize_ratio:g} is outside [0, 1] "
                              "(0 or 1 = full size)")
    if profile is not None:
        view = None if layout == profile.raw_layout else (view or profile.view)
    output = OutputRequest(image_format, layout, request.quality_percent, request.resize_ratio,
                           capabilities.jpeg_quality, capabilities.passthrough,
                           profile is not None, view)
    controls = requested_values(params, capabilities.controls) if params.values else {}
    return RequestSpec(output, controls)


def enum_name(enum, value: int) -> str:
    """The name of ``value`` in the proto ``enum``; a number a client made up (proto3 enums
    are open) is shown as such instead of raising."""
    try:
        return enum.Name(value)
    except ValueError:
        return f"{value} (not a known value)"


def supported_layouts(channels: int) -> List[str]:
    """Output layouts an 8-bit camera with ``channels`` channels can be served in."""
    return ["rgb", "grey", "rgba"] if channels == 4 else ["rgb", "grey"]


def sixteen_bit_layouts(profile: SixteenBitProfile, image_format: str,
                        view: Optional[ViewSettings] = None) -> List[str]:
    """The output layouts ``profile`` serves in ``image_format`` (``raw`` or ``jpeg``), the
    default first (the view's own: colour with a colour map, else grey)."""
    colour = (view or profile.view).colormap != NO_COLORMAP
    views = ["rgb", "grey"] if colour else ["grey", "rgb"]
    if image_format == "jpeg":
        return views
    return ["depth16"] if profile.image_type == DEPTH else ["grey16", *views]


def served_pixel_formats(profile: SixteenBitProfile) -> List[int]:
    """``ImageSource.pixel_formats`` of a 16-bit source: the values' format first."""
    layouts = [profile.raw_layout, *sixteen_bit_layouts(profile, "jpeg")]
    return [PIXEL_FORMAT_OF_LAYOUT[layout] for layout in layouts]


def _format(request: image_pb2.ImageRequest) -> str:
    """``"jpeg"`` or ``"raw"`` for the request; raises ``RequestRejected``."""
    if request.image_format == Image.FORMAT_UNKNOWN:
        return "jpeg"
    for candidate in [request.image_format, *request.fallback_formats]:
        if candidate in FORMATS:
            return FORMATS[candidate]
    name = enum_name(Image.Format, request.image_format)
    raise RequestRejected(Status.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
                          f"image format {name} is not supported; use FORMAT_JPEG or FORMAT_RAW")


def _names(layouts: List[str]) -> str:
    return ", ".join(Image.PixelFormat.Name(PIXEL_FORMAT_OF_LAYOUT[name]) for name in layouts)


def _layout(request: image_pb2.ImageRequest, image_format: str, channels: int) -> str:
    """The output pixel layout of an 8-bit camera; raises ``RequestRejected``."""
    if request.pixel_format == Image.PIXEL_FORMAT_UNKNOWN:
        layout = {1: "grey", 4: "rgba"}.get(channels, "rgb")
        return "rgb" if image_format == "jpeg" and layout == "rgba" else layout
    layout = LAYOUTS.get(request.pixel_format, "")
    allowed = supported_layouts(channels)
    if image_format == "jpeg":
        allowed = [name for name in allowed if name != "rgba"]
    if layout not in allowed:
        name = enum_name(Image.PixelFormat, request.pixel_format)
        raise RequestRejected(Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
                              f"pixel format {name} is not available as {image_format.upper()} "
                              f"from this source; use {_names(allowed)}")
    return layout


def _sixteen_bit_layout(request: image_pb2.ImageRequest, image_format: str,
                        profile: SixteenBitProfile, view: Optional[ViewSettings]) -> str:
    """The output layout of a 16-bit source; raises ``RequestRejected``."""
    allowed = sixteen_bit_layouts(profile, image_format, view)
    if request.pixel_format == Image.PIXEL_FORMAT_UNKNOWN:
        return allowed[0]
    layout = LAYOUTS.get(request.pixel_format, "")
    if layout in allowed:
        return layout
    values = Image.PixelFormat.Name(PIXEL_FORMAT_OF_LAYOUT[profile.raw_layout])
    raise RequestRejected(
        Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        f"pixel format {enum_name(Image.PixelFormat, request.pixel_format)} is not available "
        f"as {image_format.upper()} from this {profile.image_type} source; use "
        f"{_names(sixteen_bit_layouts(profile, image_format))}"
        + (f" (the 16-bit values: FORMAT_RAW with {values})" if image_format == "jpeg" else ""))
