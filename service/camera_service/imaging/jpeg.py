"""JPEG header parsing, without decoding: the one place that walks a JPEG's markers.

A JPEG starts with SOI (``FF D8``) followed by marker segments (``FF xx`` + 2-byte big-endian
length + payload) up to SOS (``FF DA``), after which the entropy-coded image data follows.
``header_segments`` yields the segments before the image data; ``jpeg_size`` (frame header),
``quantization_tables_bytes`` (DQT) and anything else that needs header facts build on it.
Every function accepts arbitrary bytes (a camera may send anything) and never raises for
malformed input: it returns ``None`` / stops where the bytes stop making sense.
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

SOI = b"\xff\xd8"
SOS, DQT, EOI = 0xDA, 0xDB, 0xD9
# Start-of-frame markers (every coding process), i.e. C0..CF except DHT, JPG and DAC.
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone (no length): TEM, RST0..7, SOI (and EOI, which ends the walk).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def header_segments(jpeg: bytes) -> Iterator[Tuple[int, bytes]]:
    """``(marker, payload)`` of every segment before the image data (SOS) or EOI; stops
    early (without raising) at the first byte that is not a marker or a truncated length.
    Yields nothing when ``jpeg`` does not start with SOI."""
    if not jpeg.startswith(SOI):
        return
    pos, end = 2, len(jpeg)
    while pos + 4 <= end:
        if jpeg[pos] != 0xFF:
            return
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (SOS, EOI):
            return
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > end:
            return
        yield marker, jpeg[pos + 4:pos + 2 + length]
        pos += 2 + length


def jpeg_size(jpeg: bytes) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from a JPEG's frame header; ``None`` if there is none."""
    for marker, payload in header_segments(jpeg):
        if marker in SOF_MARKERS:
            if len(payload) < 5:
                return None
            height = int.from_bytes(payload[1:3], "big")
            width = int.from_bytes(payload[3:5], "big")
            return width, height
    return None


def quantization_tables_bytes(jpeg: bytes) -> Optional[bytes]:
    """The payloads of every DQT segment before the image data, concatenated; ``None`` when
    ``jpeg`` is not a JPEG or has no DQT."""
    found = [payload for marker, payload in header_segments(jpeg) if marker == DQT]
    return b"".join(found) or None
