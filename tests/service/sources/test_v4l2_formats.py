"""v4l2_formats: the 16-bit format table, ``auto``'s choice and buffer decoding in the
format's byte order (whatever numpy type OpenCV wrapped the driver's bytes in)."""

from __future__ import annotations

import numpy as np
import pytest
from camera_service.sources.v4l2.formats import (
    SIXTEEN_BIT_FORMATS,
    auto_choice,
    decode_buffer,
    format_name,
    format_of_code,
    fourcc,
    opencv_fourcc_value,
    sixteen_bit_format,
)

Y16, Y16_BE, Z16 = (SIXTEEN_BIT_FORMATS[name] for name in ("Y16", "Y16_BE", "Z16"))
VALUES = np.array([[0x0102, 0xA0B0, 0xFFFF], [0x0000, 0x1234, 0x8001]], dtype=np.uint16)


def test_codes_follow_videodev2():
    assert Y16.code == 0x20363159  # v4l2_fourcc('Y', '1', '6', ' ')
    assert Y16_BE.code == 0x20363159 | 0x80000000  # v4l2_fourcc_be
    assert Z16.code == 0x2036315A
    assert format_of_code(float(Y16_BE.code)) is Y16_BE  # as OpenCV's get() reports it
    assert (format_name(Y16_BE.code), format_name(fourcc("MJPG"))) == ("Y16_BE", "MJPG")
    assert format_name(fourcc("ABCD") | 0x80000000) == "ABCD_BE"


def test_opencv_gets_big_endian_codes_as_a_negative_int():
    # OpenCV's setProperty does int(cvRound(value)) before the __u32 cast: a value past
    # INT_MAX would overflow, the same bits as a negative int survive.
    value = opencv_fourcc_value(Y16_BE.code)
    assert -(1 << 31) <= value < 0 and int(value) & 0xFFFFFFFF == Y16_BE.code
    assert opencv_fourcc_value(Y16.code) == float(Y16.code)


@pytest.mark.parametrize("text, name", [("Y16", "Y16"), ("y16 ", "Y16"), ("Y16_BE", "Y16_BE"),
                                        ("Y16 BE", "Y16_BE"), ("z16", "Z16"), ("Y10", "Y10")])
def test_config_names(text, name):
    assert sixteen_bit_format(text).name == name


def test_8_bit_names_are_not_16_bit():
    assert sixteen_bit_format("MJPG") is None and sixteen_bit_format("GREY") is None


def test_auto_takes_16_bit_only_without_a_colour_format():
    assert auto_choice([fourcc("GREY"), Y16.code]) is Y16  # thermal with an 8-bit preview
    assert auto_choice([Z16.code]) is Z16  # depth node
    assert auto_choice([Y16_BE.code, Y16.code]) is Y16  # preference order
    assert auto_choice([fourcc("YUYV"), Y16.code]) is None  # a colour camera stays colour
    assert auto_choice([fourcc("GREY")]) is None
    assert auto_choice([]) is None  # formats unknown: the colour path as before


def test_decodes_little_endian_from_a_uint16_view():
    driver = VALUES.astype("<u2").tobytes()
    wrapped = np.frombuffer(driver, np.uint16).reshape(2, 3)
    out = decode_buffer(wrapped, Y16, 3, 2)
    assert out.dtype == np.uint16 and out.dtype.isnative
    assert np.array_equal(out, VALUES)


def test_decodes_big_endian_that_opencv_wrapped_as_native_uint16():
    driver = VALUES.astype(">u2").tobytes()
    wrapped = np.frombuffer(driver, np.uint16).reshape(2, 3)  # byte-swapped when read natively
    assert not np.array_equal(wrapped, VALUES)
    assert np.array_equal(decode_buffer(wrapped, Y16_BE, 3, 2), VALUES)


def test_decodes_raw_bytes_and_refuses_short_buffers():
    driver = np.frombuffer(VALUES.astype("<u2").tobytes(), np.uint8).reshape(1, -1)
    assert np.array_equal(decode_buffer(driver, Z16, 3, 2), VALUES)
    assert decode_buffer(driver[:, :-1], Z16, 3, 2) is None
    assert decode_buffer(driver, Z16, 0, 2) is None


def test_decoded_values_do_not_share_the_driver_buffer():
    driver = bytearray(VALUES.astype("<u2").tobytes())
    out = decode_buffer(np.frombuffer(driver, np.uint8), Y16, 3, 2)
    driver[0] = 0xEE
    assert out[0, 0] == 0x0102
