"""The limits on what an IP camera may send: every byte a camera sends is bounded here.

An HTTP camera is a way into the service like the gRPC port: it may send anything, at any
pace. Its bytes enter through ``url_mjpeg.HttpJpegStream`` (the HTTP response) and
``multipart_reader.MultipartReader`` (the stream of parts); both take their limits from one
``CameraLimits``, and apply them before keeping anything proportional to the input:

- the HTTP response head: read by ``http.client``, which refuses a line over 64 KiB and a
  head of more than 100 header lines (``HTTP_HEADER_LINE``, ``HTTP_HEADER_LINES``);
- between parts (preamble, padding, the rest of a part that lied about its length): at most
  ``skip_bytes`` before a delimiter;
- a part's header: lines of at most ``part_header_line`` bytes, at most
  ``part_header_lines`` of them and ``part_header_bytes`` in all;
- a part's body: a declared ``Content-Length`` over ``part_bytes`` is refused before any
  byte of it is read; a part without one may grow to ``part_bytes`` before its delimiter;
- the pace: in every window of the stream's timeout the camera completes a part or sends at
  least ``min_bytes_per_second`` per second (a camera dripping a byte a second is faulted
  instead of holding its capture thread forever); inside a part of known length the reader
  waits for ``wait_bytes`` at a time (or the rest of the part: the socket's low-water mark,
  one wake-up per that many bytes instead of one per network segment), which must arrive
  within the timeout (13 kB/s at the default 5 s);
- what a part holds: only JPEG is passed through; any other image format is named and
  refused from its first bytes, never decoded (``image_format``): a PNG labelled
  ``image/jpeg`` declaring 16000x16000 would decode to 768 MB.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional, Tuple

MIB = 1024 * 1024
# http.client's own limits on the HTTP response head (http.client._MAXLINE, _MAXHEADERS).
HTTP_HEADER_LINE = 65536
HTTP_HEADER_LINES = 100


@dataclass(frozen=True)
class CameraLimits:
    """The bounds on one camera's bytes (see module doc). Immutable, shared."""

    part_bytes: int = 32 * MIB
    part_header_line: int = 1024
    part_header_lines: int = 64
    part_header_bytes: int = 16 * 1024
    skip_bytes: int = MIB
    delimiter_line: int = 256  # bytes after the boundary on its line ("--", spaces)
    min_bytes_per_second: float = 4096.0
    wait_bytes: int = 64 * 1024

    @property
    def buffer_bytes(self) -> int:
        """The most a stream's read buffer ever holds: one part, its header and a skip."""
        return self.part_bytes + self.part_header_bytes + self.skip_bytes


DEFAULT_LIMITS = CameraLimits()


def _png(data: bytes) -> Optional[Tuple[int, int]]:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _gif(data: bytes) -> Optional[Tuple[int, int]]:
    return struct.unpack("<HH", data[6:10]) if len(data) >= 10 else None


def _bmp(data: bytes) -> Optional[Tuple[int, int]]:
    if len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    return None


def _sun(data: bytes) -> Optional[Tuple[int, int]]:
    return struct.unpack(">II", data[4:12]) if len(data) >= 12 else None


def _webp(data: bytes) -> Optional[Tuple[int, int]]:
    if data[12:16] == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        return width, int.from_bytes(data[27:30], "little") + 1
    return None


def _pnm(data: bytes) -> Optional[Tuple[int, int]]:
    fields = data[2:64].split()
    if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
        return int(fields[0]), int(fields[1])
    return None


# (magic at offset 0, format name, declared-size reader or None)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG", _png),
    (b"GIF87a", "GIF", _gif),
    (b"GIF89a", "GIF", _gif),
    (b"BM", "BMP", _bmp),
    (b"II*\x00", "TIFF", None),
    (b"MM\x00*", "TIFF", None),
    (b"\x59\xa6\x6a\x95", "Sun raster", _sun),
    (b"#?RADIANCE", "Radiance HDR", None),
    (b"#?RGBE", "Radiance HDR", None),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000", None),
    (b"\xff\x4f\xff\x51", "JPEG 2000", None),
    (b"v/1\x01", "OpenEXR", None),
    (b"P7", "PAM", None),
    (b"Pf", "PFM", None),
    (b"PF", "PFM", None),
)


def image_format(data: bytes) -> Tuple[str, Optional[Tuple[int, int]]]:
    """``(format, declared (width, height) or None)`` of a frame that is not a JPEG, from
    its first bytes only (never decoded): ``("PNG", (16000, 16000))``, ``("unknown", None)``
    for bytes of no known image format, ``("JPEG", None)`` for anything starting with SOI."""
    if data.startswith(b"\xff\xd8"):
        return "JPEG", None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP", _webp(data)
    if data[4:12] in (b"ftypavif", b"ftypavis", b"ftypheic", b"ftypmif1"):
        return "AVIF/HEIF", None
    for magic, name, size in _SIGNATURES:
        if data.startswith(magic):
            return name, size(data) if size is not None else None
    if data[:1] == b"P" and data[1:2] in b"123456" and len(data) > 2:
        return "PNM", _pnm(data)
    return "unknown", None


def describe_non_jpeg(data: bytes) -> str:
    """A few words naming what a non-JPEG frame is: ``a PNG declaring 16000x16000``,
    ``a GIF``, ``1234 bytes of no known image format``."""
    name, size = image_format(data)
    if name == "unknown":
        return f"{len(data)} bytes of no known image format"
    article = "an" if name[0] in "AEIOU" else "a"
    declared = f" declaring {size[0]}x{size[1]}" if size else ""
    return f"{article} {name} image{declared}"
