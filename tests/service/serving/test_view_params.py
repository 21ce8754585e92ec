"""view_params: a 16-bit source's view settings as custom parameters (valid for the SDK's
spec validator), split from the camera controls, turned into ViewSettings or refused."""

from __future__ import annotations

import pytest
from bosdyn.client.service_customization_helpers import validate_dict_spec
from camera_service.core.sixteen_bit import ViewSettings, profile_from_options
from camera_service.serving.custom_params import CustomParamsError
from camera_service.serving.view_params import requested_view, split, view_spec
from service_test_helpers import dict_params as params

THERMAL = profile_from_options({"range": {"min": 100, "max": 900}}, "visual", 12)
DEPTH = profile_from_options({}, "depth", 16)


def test_spec_is_valid_and_defaults_to_the_config():
    spec = view_spec(THERMAL, first_order=3)
    validate_dict_spec(spec)  # raises when the SDK would refuse it
    assert spec.specs["view_range"].spec.string_spec.default_value == "fixed"
    assert spec.specs["view_min"].spec.int_spec.default_value.value == 100
    assert spec.specs["view_max"].spec.int_spec.max_value.value == 4095  # 12-bit camera
    assert spec.specs["view_colormap"].spec.string_spec.default_value == "inferno"
    assert "turbo" in spec.specs["view_colormap"].spec.string_spec.options
    assert spec.specs["view_range"].ui_info.display_order == 3
    assert view_spec(DEPTH).specs["view_range"].spec.string_spec.default_value == "auto"


def test_split_keeps_controls_apart():
    view, controls = split(params(view_min=5, brightness=3))
    assert list(view.values) == ["view_min"] and list(controls.values) == ["brightness"]


def _view(**values):
    """The view parameters of a request with ``values`` (``split``'s first part)."""
    return split(params(**values))[0]


def test_requested_views():
    assert requested_view(_view(brightness=3), THERMAL) is None
    assert requested_view(_view(view_max=500), THERMAL) == ViewSettings(100, 500, "inferno")
    assert requested_view(_view(view_range="auto", view_colormap="none"), THERMAL) == \
        ViewSettings(colormap="none")
    fixed = requested_view(_view(view_range="fixed", view_min=1000), DEPTH)
    assert (fixed.minimum, fixed.maximum, fixed.ignore_zero) == (1000, 65535, True)


@pytest.mark.parametrize("values", [dict(view_min=5000), dict(view_min=900, view_max=100),
                                    dict(view_colormap="sepia"), dict(view_range="wide")])
def test_refused(values):
    with pytest.raises(CustomParamsError):
        requested_view(_view(**values), THERMAL)
