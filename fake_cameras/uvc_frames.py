"""MJPEG frames shaped the way UVC cameras deliver them, each quirk on demand.

Real USB cameras do not send what ``cv2.imencode`` writes. Common shapes, reproduced here
from an ordinary baseline JPEG:

- ``no_dht``: Motion-JPEG without Huffman tables (the decoder is expected to use the
  standard ones), as most UVC MJPEG cameras send it;
- ``avi1``: an ``AVI1`` APP0 segment in place of ``JFIF`` (and no DHT, the usual pairing);
- ``padding``: zero bytes after the end-of-image marker (buffer padding);
- ``truncated``: the frame stops inside the image data (lost USB packets at stream start or
  under bus load) - no end-of-image marker;
- ``corrupt``: a marker that cannot occur inside the image data, the frame otherwise
  complete;
- ``no_soi``: the first bytes of the frame are missing (starts inside the header);
- ``wrong_size``: the frame header declares another size than the stream's.

``uvc_frame(jpeg, quirk)`` applies one quirk; ``QUIRKS`` lists them (``"none"`` = as is).
``SERVED_AS_IS`` are the quirks a camera service must still serve (normalized), the others
it must drop. ``camera_stream`` makes a whole ``FrameSet`` for the v4l2loopback feeder
(``fake_cameras.loopback_feeder``). Pure byte manipulation besides the encoding.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
from camera_service.core.jpeg import segment_spans
from camera_service.sources.synthetic import render_test_pattern

from fake_cameras.loopback_feeder import FrameSet

QUIRKS = ("none", "no_dht", "avi1", "padding", "truncated", "corrupt", "no_soi",
          "wrong_size")
SERVED_AS_IS = ("none", "no_dht", "avi1", "padding")
_SOS, _DHT, _APP0, _SOF0 = 0xDA, 0xC4, 0xE0, 0xC0
# What UVC cameras put in APP0: "AVI1", a polarity byte, then reserved/field-size bytes.
AVI1_APP0 = b"\xff\xe0\x00\x10AVI1\x00\x00" + bytes(8)
PADDING_BYTES = 2048


def encode(image: np.ndarray, quality: int = 80) -> bytes:
    """A baseline JFIF JPEG of ``image`` (BGR) with its own Huffman tables."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("cv2.imencode failed")
    return data.tobytes()


def _without(jpeg: bytes, marker: int, replacement: bytes = b"") -> bytes:
    pieces, last = [], 0
    for found, start, end in segment_spans(jpeg):
        if found == marker:
            pieces += [jpeg[last:start], replacement]
            replacement = b""  # replace the first, drop the others
            last = end
    return b"".join(pieces) + jpeg[last:]


def strip_dht(jpeg: bytes) -> bytes:
    """``jpeg`` without its DHT segments (Motion-JPEG as UVC cameras send it)."""
    return _without(jpeg, _DHT)


def with_avi1(jpeg: bytes) -> bytes:
    """``jpeg`` with its APP0 replaced by an ``AVI1`` one and no DHT."""
    return strip_dht(_without(jpeg, _APP0, AVI1_APP0))


def _frame_header(jpeg: bytes) -> int:
    for marker, start, _ in segment_spans(jpeg):
        if marker == _SOF0:
            return start
    raise ValueError("no baseline frame header")


def with_declared_size(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` whose frame header declares ``width`` x ``height`` (the data unchanged)."""
    dims = _frame_header(jpeg) + 5  # marker, length, precision, then height and width
    return jpeg[:dims] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[dims + 4:]


def scan_start(jpeg: bytes) -> int:
    """Offset of the first byte of image data (after the SOS header)."""
    return next(end for marker, _, end in segment_spans(jpeg) if marker == _SOS)


def uvc_frame(jpeg: bytes, quirk: str) -> bytes:
    """``jpeg`` (a well-formed baseline JPEG) as a camera with ``quirk`` sends it."""
    if quirk == "none":
        return jpeg
    if quirk == "no_dht":
        return strip_dht(jpeg)
    if quirk == "avi1":
        return with_avi1(jpeg)
    if quirk == "padding":
        return jpeg + bytes(PADDING_BYTES)
    data_start = scan_start(jpeg)
    if quirk == "truncated":
        return jpeg[:data_start + (len(jpeg) - data_start) // 2]
    if quirk == "corrupt":
        middle = data_start + (len(jpeg) - data_start) // 2
        return jpeg[:middle] + b"\xff\xc0" + jpeg[middle + 2:]
    if quirk == "no_soi":
        return jpeg[4:]
    if quirk == "wrong_size":
        dims = _frame_header(jpeg) + 5
        height = int.from_bytes(jpeg[dims:dims + 2], "big")
        width = int.from_bytes(jpeg[dims + 2:dims + 4], "big")
        return with_declared_size(jpeg, width * 2, height * 2)
    raise ValueError(f"unknown quirk {quirk!r}; one of {', '.join(QUIRKS)}")



def camera_picture(width: int, height: int, index: int, noise: int = 12) -> np.ndarray:
    """Test pattern ``index`` with sensor-like noise (seeded by ``index``): compresses about
    as a real camera's picture does (720p at quality 85: roughly 150 KB)."""
    image = render_test_pattern(width, height, index, 0.0).astype(np.int16)
    grain = np.random.default_rng(index).integers(-noise, noise + 1, image.shape, np.int16)
    return np.clip(image + grain, 0, 255).astype(np.uint8)


def camera_stream(width: int, height: int, fps: float, quirks: Sequence[str],
                  quality: int = 85) -> FrameSet:
    """A frame set of ``len(quirks)`` distinct frames (``camera_picture`` ``i``), frame ``i``
    shaped by ``quirks[i]``: what a UVC camera with those habits sends."""
    frames = tuple(uvc_frame(encode(camera_picture(width, height, index), quality), quirk)
                   for index, quirk in enumerate(quirks))
    return FrameSet(width, height, float(fps), frames, tuple(quirks))
