"""sixteen_bit: the Spot API byte orders (checked with the SDK's own decoder), the 8-bit view
(fixed and robust auto range, colour maps, depth's "no data"), and the config keys."""

from __future__ import annotations

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import pixel_format_to_numpy_type
from camera_service.core.errors import ConfigError
from camera_service.core.sixteen_bit import (
    ViewSettings,
    make_view,
    profile_from_options,
    proto_bytes,
    value_range,
)

Image = image_pb2.Image
RAMP = (np.arange(64 * 48, dtype=np.uint32) * 21 % 65536).astype(np.uint16).reshape(48, 64)


def sdk_decode(data: bytes, pixel_format: int) -> np.ndarray:
    """What an SDK client does with the bytes (bosdyn.client.image's dtype per format)."""
    return np.frombuffer(data, pixel_format_to_numpy_type(pixel_format)).reshape(48, 64)


def test_greyscale_u16_is_big_endian_and_depth_u16_little_endian():
    grey = proto_bytes(RAMP, "grey16")
    depth = proto_bytes(RAMP, "depth16")
    assert grey[:4] == bytes([0, 0, 0, 21]) and depth[:4] == bytes([0, 0, 21, 0])
    assert np.array_equal(sdk_decode(grey, Image.PIXEL_FORMAT_GREYSCALE_U16), RAMP)
    assert np.array_equal(sdk_decode(depth, Image.PIXEL_FORMAT_DEPTH_U16), RAMP)
    assert len(grey) == len(depth) == RAMP.size * 2


def test_fixed_range_maps_min_to_black_and_max_to_white():
    values = np.array([[100, 200, 300, 50, 400]], dtype=np.uint16)
    view = make_view(values, ViewSettings(100, 300))
    assert view.grey.tolist() == [[0, 127, 255, 0, 255]]
    assert (view.low, view.high, view.colour) == (100, 300, None)
    assert not view.grey.flags.writeable


def test_auto_range_ignores_outliers():
    values = np.full((100, 100), 1000, dtype=np.uint16)
    values[:, 50:] = 2000
    values[0, 0] = 65535  # one hot pixel
    values[99, 99] = 0  # one dead pixel
    low, high = value_range(values, ViewSettings())
    assert (low, high) == (1000, 2000)
    view = make_view(values, ViewSettings())
    assert view.grey[50, 10] == 0 and view.grey[50, 90] == 255


def test_the_view_changes_with_the_range():
    wide = make_view(RAMP, ViewSettings(0, 65535)).grey
    narrow = make_view(RAMP, ViewSettings(20000, 30000)).grey
    assert not np.array_equal(wide, narrow)


def test_colour_map_and_grey_layouts():
    view = make_view(RAMP, ViewSettings(colormap="inferno"))
    assert view.colour.shape == (48, 64, 3)
    assert view.pixels("grey") is view.grey and view.pixels("rgb") is view.colour
    plain = make_view(RAMP, ViewSettings())
    assert plain.pixels("rgb").shape == (48, 64, 3)


def test_depth_zero_is_no_data():
    values = np.full((10, 10), 3000, dtype=np.uint16)
    values[:, 5:] = 5000
    values[0, :] = 0
    view = make_view(values, ViewSettings(colormap="turbo", ignore_zero=True))
    assert (view.low, view.high) == (3000, 5000)
    assert view.grey[0].tolist() == [0] * 10 and not view.colour[0].any()
    assert view.colour[5, 9].any()


def test_profiles_from_config():
    thermal = profile_from_options({}, "visual", 16)
    assert (thermal.raw_layout, thermal.view.colormap, thermal.view.auto) == \
        ("grey16", "inferno", True)
    depth = profile_from_options({"depth_scale": 4000, "range": {"min": 0, "max": 8000},
                                  "colormap": "none"}, "depth", 16)
    assert (depth.raw_layout, depth.depth_scale) == ("depth16", 4000.0)
    assert (depth.view.minimum, depth.view.maximum, depth.view.colormap) == (0, 8000, "none")
    assert depth.view.ignore_zero and not thermal.view.ignore_zero
    assert profile_from_options({}, "depth", 16).depth_scale == 1000.0


@pytest.mark.parametrize("options, kind, key", [
    ({"colormap": "rainbowish"}, "visual", "colormap"),
    ({"range": "wide"}, "visual", "range"),
    ({"range": {"min": 10}}, "visual", "range"),
    ({"range": {"min": 10, "max": 5}}, "visual", "range"),
    ({"range": {"min": 0, "max": 4096}}, "visual", "range.max"),  # 12-bit camera
    ({"depth_scale": 1000, "image_type": "visual"}, "visual", "depth_scale"),
    ({"depth_scale": 0}, "depth", "depth_scale"),
    ({"image_type": "infrared"}, "visual", "image_type"),
])
def test_bad_config_names_the_key(options, kind, key):
    with pytest.raises(ConfigError) as err:
        profile_from_options(options, kind, 12)
    assert err.value.key == key
