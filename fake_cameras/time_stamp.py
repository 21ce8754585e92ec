"""A wall-clock time drawn into a picture as black and white blocks, and read back.

The stamp is a strip across the top of the image: ``ROWS`` x ``COLUMNS`` square cells, each
``width / COLUMNS`` pixels wide (40 px at 1280 wide), white for a 1 bit and black for a 0.
The 96 bits, row by row, are a 64-bit unsigned count of microseconds since the epoch
(CLOCK_REALTIME, big-endian) followed by the CRC-32 of those 8 bytes.

Cells scale with the width, so the stamp reads back from the image at any scale the service
makes of it (resize 0.5 gives 20 px cells at 1280 wide); the reader averages the middle half
of each cell, which JPEG compression at quality 75 and the ringing at the cell edges leave
far from grey. A picture without a stamp reads as ``None``: a cell that is neither clearly
black nor clearly white, or a checksum that does not match, means no stamp.
"""

from __future__ import annotations

import time
import zlib
from typing import Optional

import numpy as np

COLUMNS, ROWS = 32, 3
BITS = COLUMNS * ROWS  # 64 time bits + 32 checksum bits
MIN_CELL = 4.0  # pixels: below this a cell's middle is too small to read
BLACK_BELOW, WHITE_ABOVE = 80.0, 176.0  # a cell's mean between these: not a stamp


def now_us() -> int:
    """The wall clock (CLOCK_REALTIME) in whole microseconds since the epoch."""
    return time.time_ns() // 1000


def stamp_height(width: int) -> int:
    """Rows of pixels the stamp covers at the top of an image ``width`` pixels wide."""
    return round(ROWS * width / COLUMNS)


def _bits(micros: int) -> np.ndarray:
    payload = micros.to_bytes(8, "big")
    checksum = zlib.crc32(payload).to_bytes(4, "big")
    return np.unpackbits(np.frombuffer(payload + checksum, np.uint8))


def _edges(count: int, cell: float) -> np.ndarray:
    return np.round(np.arange(count + 1) * cell).astype(int)


def draw_stamp(image: np.ndarray, micros: int) -> np.ndarray:
    """Draw ``micros`` (0 <= micros < 2**64) into the top strip of ``image`` (``H x W`` or
    ``H x W x C`` ``uint8``), in place; returns ``image``. Raises ``ValueError`` for a time
    out of range or an image too small for readable cells."""
    if not 0 <= micros < 2 ** 64:
        raise ValueError(f"time stamp {micros} is not a 64-bit count of microseconds")
    height, width = image.shape[:2]
    cell = width / COLUMNS
    if cell < 2 * MIN_CELL or stamp_height(width) > height:
        raise ValueError(f"a {width}x{height} image is too small for a time stamp "
                         f"(needs at least {int(2 * MIN_CELL * COLUMNS)} pixels wide)")
    xs, ys = _edges(COLUMNS, cell), _edges(ROWS, cell)
    for index, bit in enumerate(_bits(micros)):
        row, column = divmod(index, COLUMNS)
        image[ys[row]:ys[row + 1], xs[column]:xs[column + 1]] = 255 if bit else 0
    return image


def read_stamp(image: np.ndarray) -> Optional[int]:
    """The time stamp drawn by ``draw_stamp`` into ``image`` (grey ``H x W`` or BGR
    ``H x W x 3``, any scale of the original), or ``None`` when it holds no readable stamp.
    Never raises for an image of any size or content."""
    height, width = image.shape[:2]
    cell = width / COLUMNS
    if cell < MIN_CELL or stamp_height(width) > height:
        return None
    if image.ndim == 3:
        image = image[:, :, :3]  # the mean of a cell's middle: all colour channels alike
    starts = _edges(COLUMNS, cell) + round(cell / 4)  # a cell's middle half: start, +side
    side = max(1, round(cell / 2))
    means = np.array([image[starts[row]:starts[row] + side, starts[column]:starts[column] + side]
                      .mean() for row in range(ROWS) for column in range(COLUMNS)])
    if np.any((means > BLACK_BELOW) & (means < WHITE_ABOVE)):
        return None
    data = np.packbits(means >= WHITE_ABOVE).tobytes()
    payload, checksum = data[:8], data[8:]
    if zlib.crc32(payload).to_bytes(4, "big") != checksum:
        return None
    return int.from_bytes(payload, "big")
