"""Exposure time and gain of a V4L2 frame, from the controls in effect when it was taken.

V4L2 names the controls (``controls.control_name`` of the driver's names); their units:
- ``exposure_time_absolute`` (``V4L2_CID_EXPOSURE_ABSOLUTE``, "Exposure Time, Absolute";
  kernels before 5.x called it "Exposure, Absolute": ``exposure_absolute``): 100 us units.
  It is the exposure only while exposure is not automatic: ``auto_exposure`` (older name
  ``exposure_auto``) in "Manual Mode" (1) or "Shutter Priority Mode" (2); in "Auto Mode"
  (0) or "Aperture Priority Mode" (3) the camera chooses and the control's value is not the
  frame's exposure. A camera without an auto-exposure control has a fixed exposure.
- ``gain`` (``V4L2_CID_GAIN``) or ``analogue_gain`` (``V4L2_CID_ANALOGUE_GAIN``): unitless,
  reported as is, unless automatic gain is on (``gain_automatic``, ``V4L2_CID_AUTOGAIN``).
The generic ``V4L2_CID_EXPOSURE`` ("Exposure") has driver-defined units and is not used.
"""

from __future__ import annotations

from typing import Mapping, Optional

from camera_service.sources.base import ControlValue, ShotSettings

EXPOSURE_UNIT = 100e-6  # seconds per unit of exposure_time_absolute / exposure_absolute
EXPOSURE_CONTROLS = ("exposure_time_absolute", "exposure_absolute")
AUTO_EXPOSURE_CONTROLS = ("auto_exposure", "exposure_auto")
# V4L2_CID_EXPOSURE_AUTO menu entries (index and name) under which the exposure time control
# is the exposure.
FIXED_EXPOSURE_MODES = (1, 2, "Manual Mode", "Shutter Priority Mode")
GAIN_CONTROLS = ("gain", "analogue_gain")
AUTO_GAIN_CONTROL = "gain_automatic"


def _first(values: Mapping[str, ControlValue], names) -> Optional[ControlValue]:
    return next((values[name] for name in names if name in values), None)


def _number(value: Optional[ControlValue]) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def exposure_seconds(values: Mapping[str, ControlValue]) -> Optional[float]:
    """The exposure time the controls ``values`` fix, in seconds; None when automatic or
    not known."""
    mode = _first(values, AUTO_EXPOSURE_CONTROLS)
    if mode is not None and mode not in FIXED_EXPOSURE_MODES:
        return None
    units = _number(_first(values, EXPOSURE_CONTROLS))
    return None if units is None else units * EXPOSURE_UNIT


def gain(values: Mapping[str, ControlValue]) -> Optional[float]:
    """The gain the controls ``values`` fix (unitless); None when automatic or not known."""
    if values.get(AUTO_GAIN_CONTROL) in (True, 1, "true", "True"):
        return None
    return _number(_first(values, GAIN_CONTROLS))


def shot_settings(values: Mapping[str, ControlValue]) -> ShotSettings:
    """How a frame taken under the controls ``values`` was exposed."""
    return ShotSettings(exposure=exposure_seconds(values), gain=gain(values))
