"""A JPEG's quality, estimated from its quantization tables without decoding it.

Cameras rarely say what JPEG quality they deliver, but their quantization tables (the DQT
segments before the image data) do: almost every encoder (libjpeg/IJG, most camera chips)
scales the two example tables of the JPEG standard (Annex K) by a factor that follows from the
quality. ``estimate_quality`` compares a JPEG's tables with the IJG tables of every quality
1..100 and returns the closest one: ``exact`` when the tables are IJG's for that quality, an
approximation otherwise (an encoder with its own tables), ``None`` when the JPEG has no
8-bit tables to read.

``QualityEstimator`` is the per-camera form: it estimates once per open and again only
when the camera's tables change; a frame whose header (the bytes up to its first scan) is
the same as the last one's costs one comparison of those few hundred bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from camera_service.core.jpeg import header_bytes, quantization_tables_bytes

_LOG = logging.getLogger(__name__)

# Annex K tables in natural (row-major) order.
_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.int64)
_CHROMA = np.full(64, 99, np.int64)
_CHROMA[[0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 24, 25, 32]] = [
    17, 18, 24, 47, 18, 21, 26, 66, 24, 26, 56, 47, 66, 99]
# DQT stores coefficients in zigzag order: _ZIGZAG[k] is the natural index of the k-th.
_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34,
    27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44,
    51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])
# An approximate match is only claimed when the tables are within this mean absolute
# difference per coefficient of IJG's (beyond it the encoder's tables are shaped otherwise,
# and a "quality" would be a guess).
_MAX_MEAN_ERROR = 4.0


def ijg_table(base: np.ndarray, quality: int) -> np.ndarray:
    """The table libjpeg makes from ``base`` at ``quality`` (1..100), baseline-clamped."""
    quality = min(100, max(1, quality))
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


_QUALITIES = np.arange(1, 101)
_EXPECTED = {
    0: np.stack([ijg_table(_LUMA, int(q)) for q in _QUALITIES]),
    1: np.stack([ijg_table(_CHROMA, int(q)) for q in _QUALITIES]),
}


@dataclass(frozen=True)
class QualityEstimate:
    """``quality`` (1..100) of a JPEG; ``exact`` when its tables are libjpeg's for it."""

    quality: int
    exact: bool

    def describe(self) -> str:
        """For log lines: ``quality 90`` or ``quality ~87 (non-IJG tables)``."""
        return f"quality {self.quality}" if self.exact else \
            f"quality ~{self.quality} (estimated, non-IJG tables)"


def quantization_segment(jpeg: bytes) -> Optional[bytes]:
    """The bytes of every DQT segment before the image data, concatenated; ``None`` when
    ``jpeg`` is not a JPEG or has no DQT (see ``imaging.jpeg``)."""
    return quantization_tables_bytes(jpeg)


def parse_tables(segment: bytes) -> Dict[int, np.ndarray]:
    """DQT payload -> {table id: 64 coefficients in natural order}; 16-bit tables are
    skipped (baseline cameras use 8-bit ones)."""
    tables: Dict[int, np.ndarray] = {}
    pos = 0
    while pos < len(segment):
        precision, table_id = segment[pos] >> 4, segment[pos] & 0x0F
        size = 128 if precision else 64
        body = segment[pos + 1:pos + 1 + size]
        if len(body) < size:
            break
        if not precision:
            natural = np.empty(64, np.int64)
            natural[_ZIGZAG] = np.frombuffer(body, np.uint8)
            tables[table_id] = natural
        pos += 1 + size
    return tables


def estimate_from_tables(tables: Dict[int, np.ndarray]) -> Optional[QualityEstimate]:
    """The IJG quality whose tables are closest to ``tables`` (table 0 luma, 1 chroma)."""
    used = [table_id for table_id in (0, 1) if table_id in tables]
    if not used:
        return None
    error = sum(np.abs(_EXPECTED[table_id] - tables[table_id]).sum(axis=1)
                for table_id in used)
    best = int(np.argmin(error))
    mean_error = float(error[best]) / (64 * len(used))
    if mean_error > _MAX_MEAN_ERROR:
        return None
    return QualityEstimate(int(_QUALITIES[best]), exact=mean_error == 0.0)


def estimate_quality(jpeg: bytes) -> Optional[QualityEstimate]:
    """The quality of ``jpeg`` (see module doc); ``None`` when it cannot be told."""
    segment = quantization_segment(jpeg)
    return estimate_from_tables(parse_tables(segment)) if segment else None


class QualityEstimator:
    """Per-camera estimate, recomputed only when the camera's tables change (the first frame
    after an open, a changed compression setting), which is logged once with what the camera
    granted at its open (``opened``) - again only when that line changes (a camera reopened
    every second logs it once). One thread (the capture thread)."""

    def __init__(self, camera: str = "") -> None:
        self.camera = camera
        self._granted = ""
        self._header = b""  # of the last frame estimated
        self._segment: Optional[bytes] = None
        self._estimate: Optional[QualityEstimate] = None
        self._logged = ""  # the last line logged: a reopen delivering the same is not

    def opened(self, granted: str) -> None:
        """The camera (re)opened delivering ``granted`` (e.g. ``MJPG 1280x720 @30 fps on
        /dev/video0``): its next frame's quality is logged with it."""
        self._granted = granted
        self._header = b""
        self._segment = self._estimate = None

    def estimate(self, jpeg: bytes) -> Optional[QualityEstimate]:
        """The estimate for ``jpeg``: remembered while its header is unchanged, recomputed
        (and logged) when its tables differ from the last ones."""
        if self._header and jpeg.startswith(self._header):
            return self._estimate
        self._header = header_bytes(jpeg)
        segment = quantization_segment(jpeg)
        if segment != self._segment:
            self._segment = segment
            self._estimate = estimate_from_tables(parse_tables(segment)) if segment else None
            line = "JPEG " + (self._estimate.describe() if self._estimate else
                              "of unknown quality (tables unlike libjpeg's)")
            line += f" ({self._granted})" if self._granted else ""
            if self.camera and line != self._logged:
                self._logged = line
                _LOG.info("camera %r delivers %s", self.camera, line)
        return self._estimate

    def quality(self, jpeg: bytes) -> Optional[int]:
        """The estimated quality of ``jpeg`` as an int, ``None`` when unknown."""
        found = self.estimate(jpeg)
        return found.quality if found is not None else None
