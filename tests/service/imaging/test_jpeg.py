"""JPEG header parsing: frame size and quantization tables without decoding, and no
exception for anything a camera might send."""

from __future__ import annotations

import cv2
import numpy as np
from camera_service.imaging.jpeg import (
    DQT,
    SOF_MARKERS,
    header_segments,
    jpeg_size,
    quantization_tables_bytes,
)
from hypothesis import given
from hypothesis import strategies as st


def make_jpeg(width, height, quality=75):
    image = np.full((height, width, 3), 128, np.uint8)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def test_jpeg_size_reads_the_frame_header_without_decoding():
    assert jpeg_size(make_jpeg(1280, 720)) == (1280, 720)
    assert jpeg_size(make_jpeg(17, 9)) == (17, 9)
    assert jpeg_size(b"not a jpeg") is None
    assert jpeg_size(b"\xff\xd8\xff\xe0\x00\x10") is None  # truncated


def test_header_segments_stop_at_the_image_data():
    markers = [marker for marker, _ in header_segments(make_jpeg(32, 16))]
    assert markers[0] == 0xE0 and DQT in markers and any(m in SOF_MARKERS for m in markers)
    assert 0xDA not in markers  # SOS ends the header


def test_quantization_tables_change_with_quality():
    low, high = make_jpeg(32, 16, 20), make_jpeg(32, 16, 95)
    assert quantization_tables_bytes(low) != quantization_tables_bytes(high)
    assert len(quantization_tables_bytes(low)) == 2 * 65  # luma + chroma, 8-bit
    assert quantization_tables_bytes(b"\xff\xd8\xff\xd9") is None


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(data):
    for candidate in (data, b"\xff\xd8" + data):
        jpeg_size(candidate)
        quantization_tables_bytes(candidate)
        list(header_segments(candidate))
