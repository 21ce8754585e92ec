"""The image bombs are what they claim: OpenCV itself reads 16000x16000 from every header
(checked with its own size limits, so nothing is decoded), the small declared frames decode
to their picture, and the PNG bomb's data really inflates to all its pixels."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from fake_cameras.image_bombs import (
    BOMB_SIZE,
    FRAME_FORMATS,
    PICTURE_SIZE,
    available_formats,
    declared_frame,
    png_bomb,
)

# Asks OpenCV to decode every bomb with its size limits set from the environment; OpenCV
# checks the size read from the header against them before allocating anything.
_PROBE = """
import json, sys, cv2, numpy as np
from fake_cameras.image_bombs import available_formats, declared_frame, png_bomb
found = {}
for fmt in available_formats() + ("png-bomb",):
    data = png_bomb() if fmt == "png-bomb" else declared_frame(fmt)
    try:
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        found[fmt] = "decoded"
    except cv2.error as err:
        found[fmt] = str(err)
print(json.dumps(found))
"""


def _refusals(**limits: int) -> dict:
    env = dict(os.environ, **{f"OPENCV_IO_MAX_IMAGE_{k.upper()}": str(v)
                              for k, v in limits.items()})
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_this_opencv_encodes_every_format_it_decodes_that_matters():
    assert set(available_formats()) >= {"jpeg", "png", "bmp", "tiff", "webp", "ppm", "pam",
                                        "pfm", "sunras", "hdr"}


def test_opencv_reads_exactly_16000x16000_from_every_bomb_header():
    width, height = BOMB_SIZE
    # width > W-1; then width <= W and height > H-1; then height <= H: exactly W x H.
    checks = [({"width": width - 1}, "WIDTH"),
              ({"width": width, "height": height - 1}, "HEIGHT"),
              ({"width": width, "height": height, "pixels": 1}, "PIXELS")]
    for limits, refused_by in checks:
        for fmt, outcome in _refusals(**limits).items():
            assert f"<= CV_IO_MAX_IMAGE_{refused_by}" in outcome, (fmt, limits, outcome)


@pytest.mark.parametrize("fmt", FRAME_FORMATS)
def test_declaring_the_true_size_gives_back_the_picture(fmt):
    if fmt not in available_formats():
        pytest.skip(f"this OpenCV cannot encode {fmt}")
    width, height = PICTURE_SIZE
    image = cv2.imdecode(np.frombuffer(declared_frame(fmt, width, height), np.uint8),
                         cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (height, width, 3)


@pytest.mark.parametrize("fmt", FRAME_FORMATS)
def test_declared_frames_are_small(fmt):
    if fmt not in available_formats():
        pytest.skip(f"this OpenCV cannot encode {fmt}")
    assert len(declared_frame(fmt)) < 64 * 1024


def test_an_unknown_format_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown format 'exr'; one of jpeg"):
        declared_frame("exr")


def _chunks(png: bytes):
    at = 8
    while at < len(png):
        (length,) = struct.unpack_from(">I", png, at)
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        (crc,) = struct.unpack_from(">I", png, at + 8 + length)
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        yield kind, data
        at += 12 + length


@pytest.mark.slow  # inflates 768 MB, 16 MiB at a time
def test_the_png_bomb_is_under_1_mb_and_inflates_to_every_pixel():
    width, height = BOMB_SIZE
    png = png_bomb()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 1_000_000
    chunks = dict(_chunks(png))
    assert struct.unpack(">IIBB", chunks[b"IHDR"][:10]) == (width, height, 8, 2)  # RGB 8-bit
    inflate, total, pending = zlib.decompressobj(), 0, chunks[b"IDAT"]
    zeros = memoryview(bytes(16 << 20))
    while pending:  # bounded: at most 16 MiB out at a time
        out = inflate.decompress(pending, len(zeros))
        assert zeros[:len(out)] == out, "the bomb's pixels and row filters are all zero"
        total += len(out)
        pending = inflate.unconsumed_tail
    assert inflate.eof and total == height * (width * 3 + 1)


def test_a_small_png_bomb_decodes_to_black():
    image = cv2.imdecode(np.frombuffer(png_bomb(64, 48), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (48, 64, 3) and not image.any()
