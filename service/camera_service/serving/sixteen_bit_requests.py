"""An ``ImageRequest`` for a 16-bit source (thermal, depth) resolved to its ``OutputSpec``.

What each kind serves (and lists in ``ImageSource.pixel_formats``):

- thermal (``visual``): RAW GREYSCALE_U16 (the values, big-endian), RAW GREYSCALE_U8 and
  RGB_U8 (the view); JPEG of the view as GREYSCALE_U8 or RGB_U8;
- depth: RAW DEPTH_U16 (the values, little-endian, ``depth_scale`` on the source); JPEG of
  the colourised view as RGB_U8 or GREYSCALE_U8, for viewing only.

An unset pixel format means the values for RAW and the view for JPEG (RGB_U8 with a colour
map, GREYSCALE_U8 without). Everything else is ``STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED``
(JPEG cannot carry 16-bit values; a depth view is not data, so it is not served RAW); image
format, resize ratio and quality follow ``request_resolution``'s rules.
"""

from __future__ import annotations

from typing import List, Optional

from bosdyn.api import image_pb2

from camera_service.core.sixteen_bit import DEPTH, NO_COLORMAP, SixteenBitProfile, ViewSettings
from camera_service.encoding.encoder import OutputSpec, scaled_size
from camera_service.serving.request_resolution import (
    LAYOUTS,
    PIXEL_FORMAT_OF_LAYOUT,
    RequestRejected,
    check_resize_ratio,
    enum_name,
    resolve_format,
)
from camera_service.sources.base import Frame

Image = image_pb2.Image
Status = image_pb2.ImageResponse


def allowed_layouts(profile: SixteenBitProfile, image_format: str,
                    view: Optional[ViewSettings] = None) -> List[str]:
    """The output layouts ``profile`` serves in ``image_format`` (``raw`` or ``jpeg``), the
    default first (the view's own: colour with a colour map, else grey)."""
    colour = (view or profile.view).colormap != NO_COLORMAP
    view = ["rgb", "grey"] if colour else ["grey", "rgb"]
    if image_format == "jpeg":
        return view
    return ["depth16"] if profile.image_type == DEPTH else ["grey16", *view]


def served_pixel_formats(profile: SixteenBitProfile) -> List[int]:
    """``ImageSource.pixel_formats`` of a 16-bit source: the values' format first."""
    layouts = [profile.raw_layout, *allowed_layouts(profile, "jpeg")]
    return [PIXEL_FORMAT_OF_LAYOUT[layout] for layout in layouts]


def _refusal(pixel_format: int, image_format: str, profile: SixteenBitProfile) -> str:
    allowed = allowed_layouts(profile, image_format)
    names = ", ".join(Image.PixelFormat.Name(PIXEL_FORMAT_OF_LAYOUT[name]) for name in allowed)
    values = Image.PixelFormat.Name(PIXEL_FORMAT_OF_LAYOUT[profile.raw_layout])
    return (f"pixel format {enum_name(Image.PixelFormat, pixel_format)} is not available as "
            f"{image_format.upper()} from this {profile.image_type} source; use {names}"
            + (f" (the 16-bit values: FORMAT_RAW with {values})" if image_format == "jpeg"
               else ""))


def resolve_sixteen_bit(request: image_pb2.ImageRequest, frame: Frame,
                        profile: SixteenBitProfile, default_quality: int,
                        view: Optional[ViewSettings] = None) -> OutputSpec:
    """The ``OutputSpec`` for ``request`` from the 16-bit ``frame``; raises
    ``RequestRejected``. ``view`` replaces the profile's view settings (custom parameters)."""
    image_format = resolve_format(request)
    allowed = allowed_layouts(profile, image_format, view)
    if request.pixel_format == Image.PIXEL_FORMAT_UNKNOWN:
        layout = allowed[0]
    else:
        layout = LAYOUTS.get(request.pixel_format, "")
        if layout not in allowed:
            raise RequestRejected(Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
                                  _refusal(request.pixel_format, image_format, profile))
    check_resize_ratio(request.resize_ratio)
    width, height = scaled_size(frame.width, frame.height, request.resize_ratio)
    if image_format == "raw":
        quality = 0
    elif request.quality_percent > 0:
        quality = round(min(100.0, max(1.0, request.quality_percent)))
    else:
        quality = default_quality
    settings = None if layout == profile.raw_layout else (view or profile.view)
    return OutputSpec(image_format, layout, quality, width, height, settings)
