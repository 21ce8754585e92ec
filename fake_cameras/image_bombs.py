"""Image frames whose header claims a huge size, in every format ``cv2.imdecode`` reads.

A camera can send any bytes labelled ``image/jpeg``; ``cv2.imdecode`` looks at the bytes,
not the label, and allocates what the header declares before decoding a pixel. These frames
are for tests of that boundary (generated in code, no binary fixtures):

- ``png_bomb(width, height)``: a complete, valid PNG of ``width`` x ``height`` black RGB
  pixels. 16000x16000 takes 760 kB on the wire and 768 MB once decoded: its image
  data really inflates to the full size (a decompression bomb, not only a header that lies).
- ``declared_frame(fmt, width, height)``: a small genuine image in format ``fmt`` (encoded
  by OpenCV) whose header was rewritten to declare ``width`` x ``height``; the image data is
  that of the small picture. Formats (``FRAME_FORMATS``): jpeg, png, bmp, tiff, webp, gif,
  ppm, pam, pfm, sunras (Sun raster), hdr (Radiance), jp2 (JPEG 2000), avif. OpenEXR is
  left out: OpenCV reads it only when ``OPENCV_IO_ENABLE_OPENEXR`` is set.
- ``available_formats()``: the formats this OpenCV build can encode (and so serve).

Declaring the same size as the picture (``declared_frame(fmt, 64, 48)``) gives a frame
that decodes to that picture: the rewriting is exact.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from typing import Callable, Dict, Tuple

import cv2
import numpy as np

from fake_cameras.uvc_frames import with_declared_size

BOMB_SIZE = (16000, 16000)
PICTURE_SIZE = (64, 48)  # the small picture inside every declared frame (JPEG 2000 needs 64)
_ZERO_CHUNK = 1 << 20


# -- the PNG decompression bomb ---------------------------------------------------------
def zlib_of_zeros(count: int) -> bytes:
    """A zlib stream that inflates to ``count`` zero bytes, built in milliseconds: after a
    full flush a deflate compressor forgets its history, so every 1 MiB chunk of zeros
    compresses to the same bytes and is written once and repeated."""
    chunks, rest = divmod(count, _ZERO_CHUNK)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = body.compress(bytes(_ZERO_CHUNK)) + body.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = tail.compress(bytes(rest)) + tail.flush()
    adler = ((count % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b counts the bytes
    return b"\x78\xda" + piece * chunks + end + struct.pack(">I", adler)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@functools.lru_cache(maxsize=4)
def png_bomb(width: int = BOMB_SIZE[0], height: int = BOMB_SIZE[1]) -> bytes:
    """A valid 8-bit RGB PNG of ``width`` x ``height`` black pixels (every row filter 0)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib_of_zeros(height * (width * 3 + 1))
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


# -- header rewriting per format --------------------------------------------------------
def _bmp(data: bytearray, width: int, height: int) -> None:
    struct.pack_into("<ii", data, 18, width, height)  # BITMAPINFOHEADER biWidth, biHeight


def _tiff(data: bytearray, width: int, height: int) -> None:
    order = {b"II": "<", b"MM": ">"}[bytes(data[:2])]
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (entries,) = struct.unpack_from(order + "H", data, ifd)
    found = 0
    for index in range(entries):
        at = ifd + 2 + 12 * index
        tag, kind = struct.unpack_from(order + "HH", data, at)
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4)
            value = width if tag == 256 else height
            struct.pack_into(order + ("H" if kind == 3 else "I"), data, at + 8, value)
            found += 1
    if found != 2:
        raise ValueError("TIFF without ImageWidth/ImageLength")


def _webp(data: bytearray, width: int, height: int) -> None:
    kind = bytes(data[12:16])
    if kind == b"VP8L":  # 14-bit width-1 and height-1 after the 0x2f signature byte
        (bits,) = struct.unpack_from("<I", data, 21)
        bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
        struct.pack_into("<I", data, 21, bits)
    elif kind == b"VP8 ":  # frame tag (3), start code (3), then 14-bit width and height
        struct.pack_into("<HH", data, 26, width, height)
    else:
        raise ValueError(f"WebP with a {kind!r} chunk first")


def _gif(data: bytearray, width: int, height: int) -> None:
    struct.pack_into("<HH", data, 6, width, height)  # the logical screen
    packed = data[10]
    at = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    while data[at] == 0x21:  # extensions: introducer, label, then sub-blocks up to a 0
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    if data[at] != 0x2C:
        raise ValueError("GIF without an image descriptor")
    struct.pack_into("<HH", data, at + 5, width, height)  # after separator, left, top


def _text_header(pattern: bytes) -> Callable[[bytearray, int, int], None]:
    """A rewriter for formats whose size is ASCII in the header (``pattern`` has groups
    before the width, between width and height, and after the height)."""
    compiled = re.compile(pattern)

    def rewrite(data: bytearray, width: int, height: int) -> None:
        found = compiled.search(data)
        if found is None:
            raise ValueError("no size in the header")
        new = b"%s%d%s%d" % (found.group(1), width, found.group(2), height)
        data[found.start():found.end()] = new
    return rewrite


def _pam(data: bytearray, width: int, height: int) -> None:
    for key, value in ((b"WIDTH", width), (b"HEIGHT", height)):
        found = re.search(rb"\n" + key + rb" (\d+)", data)
        if found is None:
            raise ValueError(f"PAM without {key.decode()}")
        data[found.start(1):found.end(1)] = b"%d" % value


def _hdr(data: bytearray, width: int, height: int) -> None:
    _text_header(rb"(\n-Y )\d+( \+X )\d+")(data, height, width)  # rows first


def _sunras(data: bytearray, width: int, height: int) -> None:
    struct.pack_into(">II", data, 4, width, height)


def _jp2(data: bytearray, width: int, height: int) -> None:
    header = data.find(b"ihdr")
    siz = data.find(b"\xff\x4f\xff\x51")
    if header < 0 or siz < 0:
        raise ValueError("JPEG 2000 without ihdr box or SIZ marker")
    struct.pack_into(">II", data, header + 4, height, width)
    # SIZ: marker, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz: one tile, all of it.
    struct.pack_into(">II", data, siz + 8, width, height)
    struct.pack_into(">II", data, siz + 24, width, height)


def _avif(data: bytearray, width: int, height: int) -> None:
    spatial = data.find(b"ispe")  # ImageSpatialExtents: version/flags, width, height
    if spatial < 0:
        raise ValueError("AVIF without an ispe box")
    struct.pack_into(">II", data, spatial + 8, width, height)


def _png(data: bytearray, width: int, height: int) -> None:
    struct.pack_into(">II", data, 16, width, height)  # IHDR, then its CRC again
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)


def _jpeg(data: bytearray, width: int, height: int) -> None:
    data[:] = with_declared_size(bytes(data), width, height)


# format -> (OpenCV extension, whether it encodes float pixels, header rewriter)
_FORMATS: Dict[str, Tuple[str, bool, Callable[[bytearray, int, int], None]]] = {
    "jpeg": (".jpg", False, _jpeg),
    "png": (".png", False, _png),
    "bmp": (".bmp", False, _bmp),
    "tiff": (".tiff", False, _tiff),
    "webp": (".webp", False, _webp),
    "gif": (".gif", False, _gif),
    "ppm": (".ppm", False, _text_header(rb"^(P6\s+)\d+(\s+)\d+")),
    "pam": (".pam", False, _pam),
    "pfm": (".pfm", True, _text_header(rb"^(PF\s+)\d+(\s+)\d+")),
    "sunras": (".ras", False, _sunras),
    "hdr": (".hdr", True, _hdr),
    "jp2": (".jp2", False, _jp2),
    "avif": (".avif", False, _avif),
}
FRAME_FORMATS = tuple(_FORMATS)


def _picture(floating: bool) -> np.ndarray:
    width, height = PICTURE_SIZE
    gradient = np.linspace(0, 255, width * height * 3).reshape(height, width, 3)
    return (gradient / 255).astype(np.float32) if floating else gradient.astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _encoded(fmt: str) -> bytes:
    extension, floating, _ = _FORMATS[fmt]
    try:
        ok, encoded = cv2.imencode(extension, _picture(floating))
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError(f"this OpenCV cannot encode {fmt}")
    return encoded.tobytes()


@functools.lru_cache(maxsize=64)
def declared_frame(fmt: str, width: int = BOMB_SIZE[0], height: int = BOMB_SIZE[1]) -> bytes:
    """A small ``fmt`` image whose header declares ``width`` x ``height`` (see module doc).
    Raises ``ValueError`` for an unknown format or one this OpenCV cannot encode."""
    if fmt not in _FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FRAME_FORMATS)}")
    data = bytearray(_encoded(fmt))
    _FORMATS[fmt][2](data, width, height)
    return bytes(data)


@functools.lru_cache(maxsize=1)
def available_formats() -> Tuple[str, ...]:
    """The ``FRAME_FORMATS`` this OpenCV build encodes."""
    found = []
    for fmt in FRAME_FORMATS:
        try:
            _encoded(fmt)
        except ValueError:
            continue
        found.append(fmt)
    return tuple(found)
