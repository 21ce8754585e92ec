"""capture_params of a shot: exposure_duration and gain from the source kind's reading of
the controls in effect, every control echoed in custom_params in its own type."""

from __future__ import annotations

from bosdyn.api import image_pb2
from camera_service.serving import shot_params


def test_v4l2_controls_fill_exposure_gain_and_custom_params():
    params = image_pb2.CaptureParameters()
    shot_params.fill(params, "v4l2", {"auto_exposure": "Manual Mode",
                                      "exposure_time_absolute": 333, "gain": 7,
                                      "white_balance_automatic": True, "sharpness": 1.5})
    assert params.exposure_duration.ToNanoseconds() == 33_300_000
    assert params.gain == 7.0
    echoed = params.custom_params.values
    assert echoed["auto_exposure"].string_value.value == "Manual Mode"
    assert echoed["exposure_time_absolute"].int_value.value == 333
    assert echoed["white_balance_automatic"].bool_value.value is True
    assert echoed["sharpness"].double_value.value == 1.5


def test_no_controls_leave_capture_params_unset():
    params = image_pb2.CaptureParameters()
    shot_params.fill(params, "url", {})
    assert not params.HasField("exposure_duration") and params.gain == 0.0
    assert not params.HasField("custom_params")
