"""Pure image functions and the passthrough rule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.encoding.encoder import (
    EncodingError,
    OutputSpec,
    convert_layout,
    decode_jpeg,
    is_passthrough,
    produce,
    reduction_for,
    scaled_size,
)
from camera_service.sources.base import Frame
from camera_service.sources.synthetic import render_test_pattern


def _jpeg_frame(quality=75, width=64, height=48):
    pixels = render_test_pattern(width, height, 3, 1.0)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return Frame(1, 1.0, width, height, jpeg=data.tobytes(), jpeg_quality=quality)


def test_passthrough_only_for_full_size_rgb_jpeg_of_the_cameras_own_quality():
    frame = _jpeg_frame(quality=70)
    assert is_passthrough(frame, OutputSpec("jpeg", "rgb", 0, 64, 48))
    assert not is_passthrough(frame, OutputSpec("jpeg", "rgb", 70, 64, 48))  # a re-encode
    assert not is_passthrough(frame, OutputSpec("jpeg", "grey", 0, 64, 48))
    assert not is_passthrough(frame, OutputSpec("jpeg", "rgb", 0, 32, 24))
    assert not is_passthrough(frame, OutputSpec("raw", "rgb", 0, 64, 48))
    image = produce(frame, OutputSpec("jpeg", "rgb", 0, 64, 48))
    assert image.passthrough and image.data is frame.jpeg


@pytest.mark.parametrize(("size", "factor"), [((64, 48), 1), ((33, 24), 1), ((32, 24), 2),
                                              ((16, 12), 4), ((8, 6), 8), ((5, 3), 8)])
def test_reduction_is_the_largest_decoder_scale_covering_the_output(size, factor):
    assert reduction_for(64, 48, size) == factor


def test_half_size_output_takes_the_scaled_decode():
    frame = _jpeg_frame(quality=90)
    factors = []

    def decoder(factor):
        factors.append(factor)
        return decode_jpeg(frame.jpeg, factor)

    image = produce(frame, OutputSpec("raw", "rgb", 0, 32, 24), decoder=decoder)
    assert factors == [2] and len(image.data) == 32 * 24 * 3
    assert decode_jpeg(frame.jpeg, 2).shape == (24, 32, 3)
    assert decode_jpeg(frame.jpeg, 8).shape == (6, 8, 3)


def test_raw_rgb_is_channel_swapped_bgr():
    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[..., 0] = 200  # blue in OpenCV order
    frame = Frame(1, 1.0, 6, 4, pixels=pixels)
    image = produce(frame, OutputSpec("raw", "rgb", 0, 6, 4))
    out = np.frombuffer(image.data, np.uint8).reshape(4, 6, 3)
    assert (out[..., 2] == 200).all() and (out[..., 0] == 0).all()


@pytest.mark.parametrize(("layout", "channels"), [("rgb", 3), ("grey", 1), ("rgba", 4)])
def test_raw_layouts_have_the_right_byte_count_after_resize(layout, channels):
    frame = Frame(1, 1.0, 64, 48, pixels=cv2.cvtColor(render_test_pattern(64, 48, 1, 1.0),
                                                       cv2.COLOR_BGR2BGRA))
    width, height = scaled_size(64, 48, 0.5)
    image = produce(frame, OutputSpec("raw", layout, 0, width, height))
    assert len(image.data) == 32 * 24 * channels


def test_jpeg_from_jpeg_resized_and_grey():
    image = produce(_jpeg_frame(), OutputSpec("jpeg", "grey", 50, 32, 24))
    decoded = decode_jpeg(image.data)
    assert decoded.shape == (24, 32)
    assert not image.passthrough


def test_scaled_size_full_and_minimum():
    assert scaled_size(640, 480, 0.0) == (640, 480)
    assert scaled_size(640, 480, 1.0) == (640, 480)
    assert scaled_size(640, 480, 0.25) == (160, 120)
    assert scaled_size(640, 480, 0.0001) == (1, 1)


def test_grey_to_rgb_replicates():
    grey = np.full((2, 2), 9, np.uint8)
    assert (convert_layout(grey, "rgb") == 9).all()


def test_corrupt_jpeg_raises_encoding_error():
    frame = Frame(1, 1.0, 64, 48, jpeg=b"\xff\xd8garbage", jpeg_quality=75)
    with pytest.raises(EncodingError):
        produce(frame, OutputSpec("raw", "rgb", 0, 64, 48))
