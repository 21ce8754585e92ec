"""The 16-bit V4L2 pixel formats the service serves as 16-bit values, and their buffers.

Thermal cameras (FLIR Boson/Lepton boards) offer ``Y16`` next to an 8-bit preview; depth
cameras (RealSense-class UVC devices) offer ``Z16``. The formats, from ``linux/videodev2.h``
and the kernel's pixel-format pages:

| config name | FOURCC | byte order in the buffer | values |
|---|---|---|---|
| ``Y16`` | ``'Y16 '`` | little-endian | 16-bit grey |
| ``Y16_BE`` | ``'Y16 '`` with bit 31 set | big-endian | 16-bit grey |
| ``Y12`` | ``'Y12 '`` | little-endian, unpacked | 12-bit grey in 16-bit words |
| ``Y10`` | ``'Y10 '`` | little-endian, unpacked | 10-bit grey in 16-bit words |
| ``Z16`` | ``'Z16 '`` | little-endian | 16-bit depth (unit negotiated with the device) |

``decode_buffer`` turns what OpenCV's V4L2 backend returns with ``CAP_PROP_CONVERT_RGB=0``
(for the grey formats an ``H x W`` 16-bit array over the driver's bytes, for others the raw
bytes as a ``1 x N`` array) into an ``H x W`` ``uint16`` array in this machine's byte order.
``auto_choice`` decides whether ``format: auto`` opens a 16-bit format: only when the device
offers one and no colour format (a thermal or depth node), so a 16-bit camera is never
silently served as its 8-bit preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Optional

import numpy as np

BIG_ENDIAN_FLAG = 1 << 31  # V4L2_PIX_FMT_FLAG_BE ... v4l2_fourcc_be()


def fourcc(text: str) -> int:
    """``v4l2_fourcc``: four characters, first in the lowest byte."""
    padded = text.ljust(4)[:4]
    return sum(ord(char) << (8 * index) for index, char in enumerate(padded))


@dataclass(frozen=True)
class SixteenBitFormat:
    """One 16-bit V4L2 format: its config name, FOURCC code (with the big-endian flag when it
    has one), the byte order of its buffer (numpy's ``"<"``/``">"``), its significant bits and
    what it measures (``"visual"`` grey intensity or ``"depth"``)."""

    name: str
    code: int
    byte_order: str
    bits: int
    image_type: str

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"{self.byte_order}u2")


SIXTEEN_BIT_FORMATS: Dict[str, SixteenBitFormat] = {
    fmt.name: fmt for fmt in (
        SixteenBitFormat("Y16", fourcc("Y16 "), "<", 16, "visual"),
        SixteenBitFormat("Y16_BE", fourcc("Y16 ") | BIG_ENDIAN_FLAG, ">", 16, "visual"),
        SixteenBitFormat("Z16", fourcc("Z16 "), "<", 16, "depth"),
        SixteenBitFormat("Y12", fourcc("Y12 "), "<", 12, "visual"),
        SixteenBitFormat("Y10", fourcc("Y10 "), "<", 10, "visual"),
    )
}
_BY_CODE = {fmt.code: fmt for fmt in SIXTEEN_BIT_FORMATS.values()}
#: 8-bit greyscale formats: not colour, so they do not stop ``auto`` from choosing 16 bits.
GREY_8_BIT = frozenset({fourcc("GREY"), fourcc("Y8  "), fourcc("Y800")})
#: ``auto``'s order of preference among the 16-bit formats a device offers.
AUTO_ORDER = ("Y16", "Y16_BE", "Z16", "Y12", "Y10")


def opencv_fourcc_value(code: int) -> float:
    """``code`` as the value to give ``VideoCapture.set(CAP_PROP_FOURCC, ...)``.

    OpenCV's V4L2 backend rounds the value to a signed ``int`` before it casts it to the
    FOURCC's ``__u32``: a code with bit 31 set (``Y16_BE``) overflows and is lost, so it is
    passed as the negative ``int`` with the same bits."""
    code = int(code) & 0xFFFFFFFF
    return float(code - (1 << 32) if code & BIG_ENDIAN_FLAG else code)


def sixteen_bit_format(name: str) -> Optional[SixteenBitFormat]:
    """The format named ``name`` in a config (``Y16``, ``y16``, ``Y16_BE``, ``Y16 BE``,
    ``Z16 ``...), or None when it is not a 16-bit format."""
    key = "_".join(name.strip().upper().replace("-", " ").split())
    return SIXTEEN_BIT_FORMATS.get(key)


def format_of_code(code: int) -> Optional[SixteenBitFormat]:
    """The 16-bit format with FOURCC ``code`` (as OpenCV's ``CAP_PROP_FOURCC`` reports it)."""
    return _BY_CODE.get(int(code) & 0xFFFFFFFF)


def format_name(code: int) -> str:
    """A FOURCC code for log lines: ``Y16_BE`` for the flagged one, else its four letters."""
    known = format_of_code(code)
    if known is not None:
        return known.name
    number = int(code) & 0xFFFFFFFF
    text = "".join(chr((number >> shift) & 0x7F) for shift in (0, 8, 16, 24))
    text = text.strip("\0 ") or "?"
    return text + ("_BE" if number & BIG_ENDIAN_FLAG else "")


def is_colour(code: int) -> bool:
    """True for a format that carries colour (anything but 8-bit grey and the 16-bit ones)."""
    return format_of_code(code) is None and int(code) not in GREY_8_BIT


def auto_choice(offered: Iterable[int]) -> Optional[SixteenBitFormat]:
    """The 16-bit format ``format: auto`` opens for a device offering ``offered`` codes: the
    preferred one when the device has no colour format, else None (open it as a colour
    camera). An empty list (formats unknown) is None."""
    codes = {int(code) for code in offered}
    if not codes or any(is_colour(code) for code in codes):
        return None
    for name in AUTO_ORDER:
        if SIXTEEN_BIT_FORMATS[name].code in codes:
            return SIXTEEN_BIT_FORMATS[name]
    return None


def decode_buffer(data: np.ndarray, fmt: SixteenBitFormat, width: int,
                  height: int) -> Optional[np.ndarray]:
    """The ``height x width`` values of one buffer as native ``uint16`` (a new array), or None
    when the buffer is shorter than one image (a truncated or foreign buffer).

    The buffer's bytes are read in ``fmt``'s byte order whatever numpy type OpenCV wrapped
    them in, so a big-endian ``Y16_BE`` buffer that OpenCV hands over as a little-endian
    ``uint16`` array still comes out right.
    """
    raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    needed = width * height * 2
    if width <= 0 or height <= 0 or raw.size < needed:
        return None
    values = raw[:needed].view(fmt.dtype).reshape(height, width)
    return values.astype(np.uint16)  # native order, a copy the driver's buffer cannot change
