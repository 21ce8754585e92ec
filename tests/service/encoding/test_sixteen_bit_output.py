"""sixteen_bit_output: the bytes of each output of a 16-bit frame, and one view per frame
shared by all its 8-bit outputs (through the encode-once cache)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.capture.frame_store import StoredFrame
from camera_service.core.sixteen_bit import ViewSettings, make_view
from camera_service.encoding.encoder import OutputSpec
from camera_service.encoding.output_cache import OutputCache
from camera_service.encoding.sixteen_bit_output import ViewMemo, produce_sixteen_bit
from camera_service.sources.base import Frame

VALUES = (np.arange(48 * 64, dtype=np.uint32) * 20 % 65536).astype(np.uint16).reshape(48, 64)
FRAME = Frame(1, 0.0, 64, 48, pixels=VALUES.copy())
VIEW = ViewSettings(0, 65535, "inferno")


def stored(serial=1):
    return StoredFrame("cam", serial, FRAME, 0.0)


def direct(view):
    return make_view(FRAME.pixels, view)


def test_raw_values_in_proto_order_and_resized():
    grey = produce_sixteen_bit(FRAME, OutputSpec("raw", "grey16", 0, 64, 48), direct)
    assert np.array_equal(np.frombuffer(grey.data, ">u2").reshape(48, 64), VALUES)
    depth = produce_sixteen_bit(FRAME, OutputSpec("raw", "depth16", 0, 32, 24), direct)
    half = np.frombuffer(depth.data, "<u2").reshape(24, 32)
    assert np.array_equal(half, VALUES[::2, ::2])  # nearest: no depth invented
    with pytest.raises(ValueError):
        produce_sixteen_bit(FRAME, OutputSpec("jpeg", "grey16", 75, 64, 48), direct)


def test_view_outputs():
    spec = OutputSpec("raw", "rgb", 0, 64, 48, VIEW)
    rgb = np.frombuffer(produce_sixteen_bit(FRAME, spec, direct).data, np.uint8)
    expected = cv2.cvtColor(direct(VIEW).colour, cv2.COLOR_BGR2RGB)
    assert np.array_equal(rgb.reshape(48, 64, 3), expected)
    jpeg = produce_sixteen_bit(FRAME, OutputSpec("jpeg", "grey", 80, 32, 24, VIEW), direct)
    assert cv2.imdecode(np.frombuffer(jpeg.data, np.uint8), cv2.IMREAD_UNCHANGED).shape == \
        (24, 32)
    with pytest.raises(ValueError):
        produce_sixteen_bit(FRAME, OutputSpec("jpeg", "grey", 80, 64, 48), direct)


def test_one_view_per_frame_and_settings_in_the_cache():
    cache = OutputCache()
    first = stored()
    for spec in (OutputSpec("jpeg", "rgb", 75, 64, 48, VIEW),
                 OutputSpec("jpeg", "rgb", 90, 64, 48, VIEW),
                 OutputSpec("raw", "grey", 0, 64, 48, VIEW),
                 OutputSpec("raw", "grey16", 0, 64, 48)):
        cache.get(first, spec)
        cache.get(first, spec)
    assert cache.views.made == 1 and cache.stats()["encodes"] == 4
    cache.get(first, OutputSpec("jpeg", "rgb", 75, 64, 48, ViewSettings(100, 200, "jet")))
    cache.get(stored(2), OutputSpec("jpeg", "rgb", 75, 64, 48, VIEW))
    assert cache.views.made == 3


def test_memo_is_bounded():
    memo = ViewMemo(max_entries=2)
    for serial in range(5):
        memo.view(stored(serial), VIEW)
    memo.view(stored(4), VIEW)
    assert memo.made == 5
    memo.view(stored(0), VIEW)  # dropped: made again
    assert memo.made == 6
