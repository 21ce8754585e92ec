"""The 8-bit view of a 16-bit source (thermal, depth) as ImageService custom parameters.

A 16-bit source offers, next to its camera controls:
- ``view_range``: ``auto`` (per-frame 1st-99th percentile stretch) or ``fixed``;
- ``view_min`` / ``view_max``: the raw values shown black and white with ``fixed``;
- ``view_colormap``: ``none`` (grey) or one of OpenCV's colour maps.
Defaults are the source's configuration (``range``, ``colormap``).

Each JPEG / 8-bit shot of such a source reports the raw range its view shows in
``shot.capture_params.custom_params`` (``view_min``, ``view_max``; ``report_range``).

Unlike camera controls these belong to the request, not to the camera: they change only the
JPEG / 8-bit outputs of that request (the RAW 16-bit values never change), and each distinct
setting is made once per frame through the encode-once cache like any other output.
"""

from __future__ import annotations

from typing import Optional, Tuple

from bosdyn.api import service_customization_pb2 as sc

from camera_service.core.sixteen_bit import (
    COLORMAPS,
    NO_COLORMAP,
    SixteenBitProfile,
    ViewSettings,
)
from camera_service.serving.custom_params import CustomParamsError, requested_values

RANGE, MINIMUM, MAXIMUM, COLORMAP = "view_range", "view_min", "view_max", "view_colormap"
NAMES = (RANGE, MINIMUM, MAXIMUM, COLORMAP)
_DISPLAY = {RANGE: ("View range", "auto: stretch each frame (1st-99th percentile); fixed: "
                                  "view min .. view max"),
            MINIMUM: ("View min (raw)", "raw value shown black with a fixed range"),
            MAXIMUM: ("View max (raw)", "raw value shown white with a fixed range"),
            COLORMAP: ("View colour map", "colour map of the JPEG view (none = grey)")}


def view_spec(profile: SixteenBitProfile, first_order: int = 0) -> sc.DictParam.Spec:
    """The view parameters of a source with ``profile`` (defaults = its configuration)."""
    view, top = profile.view, (1 << profile.bits) - 1
    spec = sc.DictParam.Spec()
    choice = spec.specs[RANGE].spec.string_spec
    choice.options.extend(["auto", "fixed"])
    choice.default_value = "auto" if view.auto else "fixed"
    for name, default in ((MINIMUM, view.minimum or 0),
                          (MAXIMUM, top if view.maximum is None else view.maximum)):
        numeric = spec.specs[name].spec.int_spec
        numeric.min_value.value, numeric.max_value.value = 0, top
        numeric.default_value.value = default
    maps = spec.specs[COLORMAP].spec.string_spec
    maps.options.extend([NO_COLORMAP, *sorted(COLORMAPS)])
    maps.default_value = view.colormap
    for order, name in enumerate(NAMES):
        entry = spec.specs[name]
        entry.ui_info.display_name, entry.ui_info.description = _DISPLAY[name]
        entry.ui_info.display_order = first_order + order
    for name in (RANGE, COLORMAP):
        spec.specs[name].spec.string_spec.editable = False
    return spec


def report_range(params: sc.DictParam, value_range: Tuple[int, int]) -> None:
    """Put the raw range a view shows (black, white) into a shot's
    ``capture_params.custom_params`` as ``view_min`` / ``view_max``: with ``auto`` it is
    the range of that frame."""
    params.values[MINIMUM].int_value.value, params.values[MAXIMUM].int_value.value = value_range


def read_range(params: sc.DictParam) -> Optional[Tuple[int, int]]:
    """The range ``report_range`` put into ``params``, or None."""
    if MINIMUM not in params.values or MAXIMUM not in params.values:
        return None
    return (int(params.values[MINIMUM].int_value.value),
            int(params.values[MAXIMUM].int_value.value))


def split(params: sc.DictParam) -> Tuple[sc.DictParam, sc.DictParam]:
    """``params`` as (view parameters, everything else: the camera controls)."""
    view, rest = sc.DictParam(), sc.DictParam()
    for key, value in params.values.items():
        (view if key in NAMES else rest).values[key].CopyFrom(value)
    return view, rest


def requested_view(view_params: sc.DictParam,
                   profile: SixteenBitProfile) -> Optional[ViewSettings]:
    """The view the view parameters of a request (``split``'s first part) ask for, or None
    when there are none.

    Raises ``CustomParamsError`` for a wrong type, a value out of range or min >= max.
    """
    if not view_params.values:
        return None
    values = requested_values(view_params, view_spec(profile))
    base = profile.view
    colormap = str(values.get(COLORMAP, base.colormap))
    fixed = values.get(RANGE, "auto" if base.auto else "fixed") == "fixed"
    if not fixed:
        return ViewSettings(colormap=colormap, ignore_zero=base.ignore_zero)
    low = int(values.get(MINIMUM, base.minimum or 0))
    high = int(values.get(MAXIMUM, (1 << profile.bits) - 1 if base.maximum is None
                          else base.maximum))
    if high <= low:
        raise CustomParamsError(sc.CustomParamError(
            status=sc.CustomParamError.STATUS_INVALID_VALUE,
            error_messages=[f"{MAXIMUM} ({high}) must be greater than {MINIMUM} ({low})"]))
    return ViewSettings(low, high, colormap, base.ignore_zero)
