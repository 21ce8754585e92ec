"""JPEG quality from quantization tables."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.core.jpeg_quality import (
    QualityEstimator,
    estimate_quality,
    quantization_segment,
)
from camera_service.sources.synthetic import render_test_pattern


def _jpeg(quality: int, grey: bool = False) -> bytes:
    pixels = render_test_pattern(96, 64, 1, 1.0)
    if grey:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("quality", [1, 12, 49, 50, 51, 75, 90, 97, 100])
def test_libjpeg_quality_is_recovered_exactly(quality):
    found = estimate_quality(_jpeg(quality))
    assert found is not None and found.exact and found.quality == quality


def test_greyscale_jpeg_has_only_the_luma_table():
    found = estimate_quality(_jpeg(60, grey=True))
    assert found is not None and (found.quality, found.exact) == (60, True)


def test_foreign_tables_near_ijg_give_an_approximate_quality():
    data = bytearray(_jpeg(80))
    start = bytes(data).index(b"\xff\xdb") + 5  # first coefficient of the first table
    data[start + 10] += 1  # one coefficient off: some other encoder's table
    found = estimate_quality(bytes(data))
    assert found is not None and not found.exact and abs(found.quality - 80) <= 1
    assert "~" in found.describe()


def test_tables_unlike_ijg_and_non_jpeg_are_unknown():
    data = bytearray(_jpeg(80))
    start = bytes(data).index(b"\xff\xdb") + 5
    data[start:start + 64] = bytes(np.arange(64, 0, -1, dtype=np.uint8))  # reversed slope
    assert estimate_quality(bytes(data)) is None
    assert estimate_quality(b"not a jpeg") is None
    assert quantization_segment(b"\xff\xd8\xff\xd9") is None


def test_estimator_follows_a_change_of_tables():
    estimator = QualityEstimator()
    assert estimator.quality(_jpeg(90)) == 90
    assert estimator.quality(_jpeg(90)) == 90
    assert estimator.quality(_jpeg(40)) == 40
    assert estimator.quality(b"garbage") is None
