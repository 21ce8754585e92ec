"""Exposure and gain of a V4L2 frame from the controls in effect: units, older control
names, automatic exposure or gain leaves them unset; other kinds report nothing."""

from __future__ import annotations

import pytest
from camera_service.sources import shot_settings
from camera_service.sources.base import ShotSettings


@pytest.mark.parametrize("values, expected", [
    # exposure_time_absolute is in 100 us units; gain is unitless
    ({"auto_exposure": "Manual Mode", "exposure_time_absolute": 333, "gain": 7},
     ShotSettings(exposure=0.0333, gain=7.0)),
    # older kernels' names, the menu given by index (1 manual, 2 shutter priority)
    ({"exposure_auto": 1, "exposure_absolute": 10}, ShotSettings(exposure=0.001)),
    ({"auto_exposure": "Shutter Priority Mode", "exposure_time_absolute": 50},
     ShotSettings(exposure=0.005)),
    # the camera chooses the exposure: the control's value is not the frame's
    ({"auto_exposure": "Aperture Priority Mode", "exposure_time_absolute": 250, "gain": 3},
     ShotSettings(gain=3.0)),
    ({"auto_exposure": 0, "exposure_time_absolute": 250}, ShotSettings()),
    # no auto-exposure control: the exposure is what the control says
    ({"exposure_time_absolute": 20}, ShotSettings(exposure=0.002)),
    # automatic gain: no gain reported; a sensor's analogue gain otherwise
    ({"gain": 9, "gain_automatic": True}, ShotSettings()),
    ({"analogue_gain": 4, "gain_automatic": False}, ShotSettings(gain=4.0)),
    # no such controls
    ({"brightness": 10, "power_line_frequency": "50 Hz"}, ShotSettings()),
])
def test_v4l2_exposure_and_gain(values, expected):
    got = shot_settings("v4l2", values)
    assert got.gain == expected.gain
    if expected.exposure is None:
        assert got.exposure is None
    else:
        assert got.exposure == pytest.approx(expected.exposure)


def test_kinds_without_such_controls_report_nothing():
    values = {"auto_exposure": "Manual Mode", "exposure_time_absolute": 333, "gain": 7}
    assert shot_settings("synthetic", values) == ShotSettings()
    assert shot_settings("no-such-kind", values) == ShotSettings()
