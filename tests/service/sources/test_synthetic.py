"""The synthetic camera: pattern, pacing, native JPEG / raw modes, controls, simulated faults."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from camera_service.core.errors import ConfigError
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from camera_service.sources.synthetic import render_test_pattern


def _source(**kwargs):
    options = kwargs.pop("options", {})
    return create_source("synthetic", SourceSettings("synth", options=options, **kwargs))


def test_pattern_moves_and_is_deterministic():
    first = render_test_pattern(320, 240, 1, 1_700_000_000.0)
    again = render_test_pattern(320, 240, 1, 1_700_000_000.0)
    later = render_test_pattern(320, 240, 2, 1_700_000_000.0)
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, later)
    first[0, 0] = 7  # returned array is the caller's own
    assert render_test_pattern(320, 240, 1, 1_700_000_000.0)[0, 0, 0] != 7


def test_pattern_burns_in_timestamp():
    a = render_test_pattern(320, 240, 1, 1_700_000_000.0)
    b = render_test_pattern(320, 240, 1, 1_700_000_001.0)
    assert not np.array_equal(a, b)


def test_native_jpeg_frames_decode_to_configured_size_at_rate():
    source = _source(width=320, height=240, fps=50, jpeg_quality=60)
    info = source.open()
    assert info.native_jpeg and (info.width, info.height) == (320, 240)
    start = time.monotonic()
    frames = [source.read() for _ in range(10)]
    elapsed = time.monotonic() - start
    assert elapsed >= 0.15  # paced at 50 fps: 10 frames take at least 9 periods
    assert [f.sequence for f in frames] == list(range(1, 11))
    decoded = cv2.imdecode(np.frombuffer(frames[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (240, 320, 3)
    assert frames[0].jpeg_quality == 60


@pytest.mark.parametrize(("pixel_format", "shape"), [
    ("bgr", (48, 64, 3)), ("grey", (48, 64)), ("bgra", (48, 64, 4))])
def test_raw_pixel_formats(pixel_format, shape):
    source = _source(width=64, height=48, fps=100,
                     options={"native_jpeg": False, "pixel_format": pixel_format})
    assert source.open().channels == (shape[2] if len(shape) == 3 else 1)
    frame = source.read()
    assert frame.jpeg is None and frame.pixels.shape == shape


def test_controls_change_the_picture_and_reject_bad_values():
    source = _source(width=64, height=48, fps=100, options={"native_jpeg": False})
    source.open()
    names = {c.name for c in source.controls()}
    assert {"brightness", "contrast", "gain", "mirror", "pattern"} <= names
    plain = source.read().pixels.astype(int)
    source.set_control("brightness", 40)
    brighter = source.read().pixels.astype(int)
    assert brighter.mean() > plain.mean() + 10
    with pytest.raises(ValueError):
        source.set_control("brightness", 1000)
    with pytest.raises(ValueError):
        source.set_control("pattern", "zebra")
    with pytest.raises(KeyError):
        source.set_control("focus", 1)


@pytest.mark.parametrize(("options", "key"), [
    ({"pixel_format": "yuv"}, "pixel_format"),
    ({"native_jpeg": "yes"}, "native_jpeg"),
    ({"fail_after_frames": 2}, "fail_after_frames"),  # failure injection is not shipped
    ({"colour": 1}, "colour"),
])
def test_bad_options_name_the_key(options, key):
    with pytest.raises(ConfigError) as err:
        _source(options=options)
    assert err.value.key == key


def test_configured_controls_are_the_values_it_starts_with():
    source = create_source("synthetic", SourceSettings(
        "s", options={"controls": {"brightness": 10, "pattern": "black"}}))
    values = {c.name: (c.value, c.default) for c in source.controls()}
    assert values["brightness"] == (10, 0) and values["pattern"] == ("black", "bars")
    with pytest.raises(ConfigError, match=r"controls\.shutter.*no such control"):
        create_source("synthetic", SourceSettings("s", options={"controls": {"shutter": 1}}))
    with pytest.raises(ConfigError, match=r"controls\.brightness.*<= 64"):
        create_source("synthetic", SourceSettings("s", options={"controls": {"brightness": 99}}))


def test_controls_given_as_a_list_are_one_config_error():
    # found by the loader fuzz test: a list where the control map belongs was a traceback
    with pytest.raises(ConfigError, match=r"controls.*must be a mapping"):
        create_source("synthetic", SourceSettings("a", options={"controls": [None]}))
