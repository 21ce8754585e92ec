"""The time stamp drawn into frames: it reads back exactly after what the service does to a
picture (JPEG at the qualities cameras and clients use, resize 0.5), and a picture without
one reads as no stamp, never as a wrong time or an exception."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.sources.synthetic import render_test_pattern

from fake_cameras.time_stamp import draw_stamp, now_us, read_stamp, stamp_height

WHEN = 1_796_000_000_123_456  # microseconds: a December 2026 wall-clock time


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


@pytest.mark.parametrize("size", [(1280, 720), (640, 480), (1920, 1080)])
@pytest.mark.parametrize("camera_quality", [75, 90])
def test_a_stamp_survives_the_camera_the_service_resize_and_the_clients_jpeg(size,
                                                                           camera_quality):
    picture = draw_stamp(render_test_pattern(*size, 7, 0.0), WHEN)
    received = _jpeg(picture, camera_quality)
    assert read_stamp(received) == WHEN
    half = cv2.resize(received, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA)
    client = _jpeg(half, 75)
    assert read_stamp(client) == WHEN
    assert read_stamp(cv2.cvtColor(client, cv2.COLOR_BGR2GRAY)) == WHEN


def test_every_bit_of_the_time_is_read_back():
    picture = render_test_pattern(1280, 720, 0, 0.0)
    for micros in (0, 1, 2 ** 64 - 1, 0x0123456789ABCDEF, now_us()):
        assert read_stamp(_jpeg(draw_stamp(picture.copy(), micros), 75)) == micros


def test_a_picture_without_a_stamp_reads_as_none():
    assert read_stamp(render_test_pattern(1280, 720, 3, 0.0)) is None
    assert read_stamp(np.zeros((720, 1280, 3), np.uint8)) is None
    assert read_stamp(np.full((720, 1280), 255, np.uint8)) is None
    noise = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert read_stamp(noise) is None
    assert read_stamp(np.zeros((4, 4), np.uint8)) is None  # too small to hold one


def test_a_damaged_stamp_reads_as_none_not_as_another_time():
    picture = draw_stamp(render_test_pattern(1280, 720, 0, 0.0), WHEN)
    cell = 1280 // 32
    flipped = picture.copy()
    flipped[:cell, :cell] = 255 - flipped[:cell, :cell]  # one bit inverted
    assert read_stamp(flipped) is None
    greyed = picture.copy()
    greyed[cell:2 * cell, 5 * cell:6 * cell] = 128  # one cell neither black nor white
    assert read_stamp(greyed) is None


def test_the_stamp_covers_only_a_strip_at_the_top():
    picture = render_test_pattern(1280, 720, 0, 0.0)
    stamped = draw_stamp(picture.copy(), WHEN)
    assert stamp_height(1280) == 120
    assert np.array_equal(stamped[120:], picture[120:])


def test_out_of_range_times_and_small_pictures_are_refused():
    with pytest.raises(ValueError, match="64-bit"):
        draw_stamp(np.zeros((720, 1280), np.uint8), -1)
    with pytest.raises(ValueError, match="too small"):
        draw_stamp(np.zeros((48, 64), np.uint8), WHEN)
