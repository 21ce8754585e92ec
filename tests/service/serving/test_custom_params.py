"""Controls -> custom-parameter spec, request validation, applying values."""

from __future__ import annotations

import math

import pytest
from bosdyn.api import image_pb2
from bosdyn.api import service_customization_pb2 as sc
from camera_service.serving.custom_params import (
    CustomParamsError,
    requested_values,
    set_changed,
    spec_for,
)
from camera_service.sources.base import Control
from service_test_helpers import synthetic


def test_negative_ranges_and_lying_defaults_do_not_break_the_spec():
    controls = [
        Control("contrast", "int", -10, -10, minimum=-64, maximum=64, step=1),
        Control("gain", "float", 9.0, 9.0, minimum=0.0, maximum=4.0),  # default out of range
        Control("hdr", "bool", True, True),
        Control("power_line", "menu", "50 Hz", "50 Hz", choices=("off", "50 Hz", "60 Hz")),
        Control("weird", "matrix", 0, 0),  # unknown kind: left out
    ]
    spec = spec_for(controls)
    assert set(spec.specs) == {"contrast", "gain", "hdr", "power_line"}
    assert spec.specs["contrast"].spec.int_spec.min_value.value == -64
    assert spec.specs["gain"].spec.double_spec.default_value.value == 4.0
    assert spec.specs["hdr"].spec.bool_spec.default_value.value is True
    assert list(spec.specs["power_line"].spec.string_spec.options) == ["off", "50 Hz", "60 Hz"]
    assert spec.specs["power_line"].ui_info.display_name == "Power line"


def _params(**values):
    params = sc.DictParam()
    for key, value in values.items():
        if isinstance(value, bool):
            params.values[key].bool_value.value = value
        elif isinstance(value, int):
            params.values[key].int_value.value = value
        elif isinstance(value, float):
            params.values[key].double_value.value = value
        else:
            params.values[key].string_value.value = value
    return params


def apply(source, params):
    """Validate ``params`` against ``source``'s controls and set those that differ (what a
    GetImage does: request_spec validates, the servicer sets)."""
    controls = list(source.controls())
    values = requested_values(params, spec_for(controls))
    return set_changed(source, values, {control.name: control.value for control in controls})


def test_apply_sets_only_changed_values():
    source = synthetic()
    changed = apply(source, _params(brightness=0, contrast=40, mirror=True))
    assert sorted(changed) == ["contrast", "mirror"]
    values = {c.name: c.value for c in source.controls()}
    assert (values["contrast"], values["mirror"]) == (40, True)


@pytest.mark.parametrize(("params", "status"), [
    (_params(brightness=65), sc.CustomParamError.STATUS_INVALID_VALUE),
    (_params(brightness=1.5), sc.CustomParamError.STATUS_INVALID_VALUE),  # SDK's wrong-type code
    (_params(pattern="zebra"), sc.CustomParamError.STATUS_INVALID_VALUE),
    (_params(zoom=2), sc.CustomParamError.STATUS_UNSUPPORTED_PARAMETER),
])
def test_invalid_requests(params, status):
    source = synthetic()
    with pytest.raises(CustomParamsError) as err:
        apply(source, params)
    assert err.value.error.status == status
    assert {c.name: c.value for c in source.controls()}["brightness"] == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_and_leave_the_camera_alone(value):
    source = synthetic()
    with pytest.raises(CustomParamsError) as err:
        apply(source, _params(gain=value))
    assert err.value.error.status == sc.CustomParamError.STATUS_INVALID_VALUE
    assert err.value.error.error_messages == [
        f"parameter 'gain' must be a finite number, got {value}"]
    assert {c.name: c.value for c in source.controls()}["gain"] == 1.0


def test_non_finite_number_through_the_servicer_is_custom_params_error(local_service):
    service = local_service(synthetic())
    params = sc.DictParam()
    params.values["gain"].double_value.value = math.nan
    reply = service.stub.GetImage(image_pb2.GetImageRequest(image_requests=[
        image_pb2.ImageRequest(image_source_name="cam", custom_params=params)]), timeout=10)
    (response,) = reply.image_responses
    assert response.status == image_pb2.ImageResponse.STATUS_CUSTOM_PARAMS_ERROR
    assert "finite" in response.custom_param_error.error_messages[0]
