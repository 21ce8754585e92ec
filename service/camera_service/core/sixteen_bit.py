"""16-bit frames (thermal ``Y16``, depth ``Z16``) -> the bytes the ImageService sends.

Two outputs exist for a 16-bit frame:
- the values themselves, RAW, in the byte order the Spot API defines for the pixel format
  (``proto_bytes``): ``PIXEL_FORMAT_GREYSCALE_U16`` big-endian, ``PIXEL_FORMAT_DEPTH_U16``
  little-endian (with ``ImageSource.depth_scale`` = the raw value that means one metre);
- an 8-bit view for people (``make_view``), made once per frame and shared by the JPEG and
  the 8-bit RAW outputs: the raw range ``low..high`` stretched to 0..255, either fixed
  (``range: {min: .., max: ..}`` in raw units) or ``auto``, a robust per-frame stretch from the
  1st to the 99th percentile (outliers such as a hot soldering iron or dead pixels do not
  flatten the picture); optionally coloured with one of OpenCV's colour maps (``inferno``...).
  For depth, 0 means "no measurement": it is left out of the auto range and shown black.

``SixteenBitProfile`` is what a 16-bit source declares about its output (image type, depth
scale, view settings); ``profile_from_options`` reads it from a source's config keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import cv2
import numpy as np

from camera_service.core.errors import ConfigError

VISUAL, DEPTH = "visual", "depth"
#: numpy byte order of each 16-bit pixel format of the Spot API (bosdyn.api.Image).
PROTO_BYTE_ORDER = {"grey16": ">", "depth16": "<"}
#: OpenCV's colour maps by lower-case name (``inferno``, ``turbo``, ``jet``...).
COLORMAPS: Dict[str, int] = {
    name[len("COLORMAP_"):].lower(): getattr(cv2, name)
    for name in dir(cv2) if name.startswith("COLORMAP_")
}
NO_COLORMAP = "none"
AUTO_PERCENTILES = (1.0, 99.0)
_SAMPLE_TARGET = 40_000  # values the auto range looks at (a strided subsample of the frame)


@dataclass(frozen=True)
class ViewSettings:
    """How the 8-bit view is made: fixed ``minimum``/``maximum`` raw values (both set), or
    ``auto`` (both None); ``colormap`` an OpenCV colour map name or ``"none"`` (grey);
    ``ignore_zero`` for depth, where 0 means "no measurement"."""

    minimum: Optional[int] = None
    maximum: Optional[int] = None
    colormap: str = NO_COLORMAP
    ignore_zero: bool = False

    @property
    def auto(self) -> bool:
        return self.minimum is None

    def describe(self) -> str:
        span = "auto (1st-99th percentile)" if self.auto else f"{self.minimum}..{self.maximum}"
        return f"range {span}, colour map {self.colormap}"


@dataclass(frozen=True)
class SixteenBitProfile:
    """What a 16-bit source serves: ``image_type`` ``visual`` (GREYSCALE_U16) or ``depth``
    (DEPTH_U16 with ``depth_scale``), ``bits`` significant bits of the values (10, 12, 16),
    and the view settings for JPEG / 8-bit outputs."""

    image_type: str
    bits: int = 16
    depth_scale: float = 0.0
    view: ViewSettings = ViewSettings()

    @property
    def raw_layout(self) -> str:
        """The output layout of the values: ``grey16`` or ``depth16``."""
        return "depth16" if self.image_type == DEPTH else "grey16"


@dataclass(frozen=True)
class View:
    """The 8-bit view of one frame: ``grey`` (``H x W`` uint8), ``colour`` (``H x W x 3`` BGR
    with the colour map, None without one) and the raw range ``low..high`` it shows."""

    grey: np.ndarray
    colour: Optional[np.ndarray]
    low: int
    high: int

    def pixels(self, layout: str) -> np.ndarray:
        """The view in OpenCV layout for output ``layout`` (``grey`` or ``rgb``): the grey
        stretch for grey, the coloured view (or the grey one as BGR) for colour."""
        if layout == "grey":
            return self.grey
        if self.colour is not None:
            return self.colour
        return cv2.cvtColor(self.grey, cv2.COLOR_GRAY2BGR)


def proto_bytes(values: np.ndarray, layout: str) -> bytes:
    """``values`` (``H x W`` uint16) as the bytes of ``layout`` (``grey16``: big-endian,
    ``depth16``: little-endian), row by row."""
    order = PROTO_BYTE_ORDER[layout]
    return np.ascontiguousarray(values, dtype=np.dtype(f"{order}u2")).tobytes()


def value_range(values: np.ndarray, settings: ViewSettings) -> tuple:
    """The raw ``(low, high)`` the view maps to 0..255 (``high > low``)."""
    if settings.minimum is not None and settings.maximum is not None:  # not auto
        return int(settings.minimum), int(settings.maximum)
    step = max(1, int(np.sqrt(values.size / _SAMPLE_TARGET)))
    sample = values[::step, ::step].reshape(-1)
    if settings.ignore_zero:
        sample = sample[sample > 0]
    if sample.size == 0:
        return 0, 1
    low, high = np.percentile(sample, AUTO_PERCENTILES)
    low, high = int(low), int(np.ceil(high))
    return low, max(high, low + 1)


def make_view(values: np.ndarray, settings: ViewSettings) -> View:
    """The 8-bit view of ``values`` (see the module doc)."""
    low, high = value_range(values, settings)
    # One lookup table for all 65536 raw values: cheaper per frame than arithmetic on floats.
    table = np.clip((np.arange(65536, dtype=np.float32) - low) * (255.0 / (high - low)),
                    0, 255).astype(np.uint8)
    if settings.ignore_zero:
        table[0] = 0
    grey = table[values]
    colour = None
    if settings.colormap != NO_COLORMAP:
        colour = cv2.applyColorMap(grey, COLORMAPS[settings.colormap])
        if settings.ignore_zero:
            colour[values == 0] = 0
    for array in (grey, colour):
        if array is not None:
            array.flags.writeable = False
    return View(grey, colour, low, high)


# -- config ------------------------------------------------------------------------------
def _raw_value(value: object, key: str, bits: int) -> int:
    top = (1 << bits) - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ConfigError(key, f"must be a raw value between 0 and {top}, got {value!r}")
    return value


def view_from_options(options: dict, bits: int = 16, default_colormap: str = NO_COLORMAP,
                      ignore_zero: bool = False) -> ViewSettings:
    """``range`` (``auto`` or ``{min: .., max: ..}`` raw values) and ``colormap`` (an OpenCV
    colour map name or ``none``) from a source's options. Raises ``ConfigError``."""
    colormap = options.get("colormap", default_colormap)
    if not isinstance(colormap, str) or (colormap.lower() not in COLORMAPS
                                         and colormap.lower() != NO_COLORMAP):
        raise ConfigError("colormap", f"must be none or an OpenCV colour map "
                          f"({', '.join(sorted(COLORMAPS))}), got {colormap!r}")
    colormap = colormap.lower()
    span = options.get("range", "auto")
    if isinstance(span, str) and span.lower() == "auto":
        return ViewSettings(colormap=colormap, ignore_zero=ignore_zero)
    if not isinstance(span, dict) or set(span) != {"min", "max"}:
        raise ConfigError("range", f"must be auto or {{min: <raw>, max: <raw>}}, got {span!r}")
    low = _raw_value(span["min"], "range.min", bits)
    high = _raw_value(span["max"], "range.max", bits)
    if high <= low:
        raise ConfigError("range", f"max ({high}) must be greater than min ({low})")
    return ViewSettings(low, high, colormap, ignore_zero)


def profile_from_options(options: dict, image_type: str, bits: int) -> SixteenBitProfile:
    """The profile of a 16-bit source from its options: ``image_type`` (``visual`` or
    ``depth``; when absent ``depth`` if a ``depth_scale`` is given, else the format's own
    ``image_type``), ``depth_scale`` (depth only, default 1000 = millimetres), ``range``,
    ``colormap`` (default ``inferno`` for thermal, ``turbo`` for depth). Raises
    ``ConfigError``."""
    kind = options.get("image_type", DEPTH if "depth_scale" in options else image_type)
    if kind not in (VISUAL, DEPTH):
        raise ConfigError("image_type", f"must be visual or depth, got {kind!r}")
    scale = options.get("depth_scale", 1000.0 if kind == DEPTH else None)
    if kind == VISUAL and scale is not None:
        raise ConfigError("depth_scale", "only a depth source (image_type: depth) has one")
    if kind == DEPTH and (isinstance(scale, bool) or not isinstance(scale, (int, float))
                          or not scale > 0):
        raise ConfigError("depth_scale", f"must be the raw value of one metre (> 0, e.g. 1000 "
                          f"for millimetres), got {scale!r}")
    depth = kind == DEPTH
    view = view_from_options(options, bits, "turbo" if depth else "inferno", ignore_zero=depth)
    return SixteenBitProfile(kind, bits, float(scale or 0.0), view)
