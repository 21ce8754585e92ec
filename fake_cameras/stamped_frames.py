"""JPEG frames that carry the wall-clock time they are sent (``fake_cameras.time_stamp``).

A frame cannot hold the time it leaves once it is encoded, so ``StampedFrames`` draws a time
slightly ahead: now plus a margin (the 90th percentile of the last encodes x 1.5 + 1 ms, at
most ``max_margin_ms``, so that the wait never eats the frame period), encodes, then sleeps
until that time and hands the bytes back, for the caller to send at once. The time in the
picture is then the time it is sent, to the sleep's precision. A frame whose encode overran
the margin (a busy machine) is handed back at once and counted late (``late``, ``late_ms``):
its stamp is earlier than its sending by that much.
"""

from __future__ import annotations

import collections
import statistics
import time
from typing import Callable, Deque, List, Sequence

import cv2
import numpy as np

from fake_cameras.time_stamp import draw_stamp

MAX_MARGIN_MS = 10.0  # a third of a 30 frames/s period
LATE_NS = 1_000_000  # handed back later than its stamp by more than this: late
HISTORY = 30  # encodes the margin looks back on


class StampedFrames:
    """Makes frame ``index`` from ``pictures[index % len(pictures)]`` (BGR or grey ``uint8``,
    not modified) as JPEG at ``quality`` with its send time drawn in (see module doc).

    ``clock_ns`` is the wall clock in nanoseconds and ``sleep`` waits seconds (injectable for
    tests). Not thread-safe: one producer calls it.
    """

    def __init__(self, pictures: Sequence[np.ndarray], quality: int,
                 clock_ns: Callable[[], int] = time.time_ns,
                 sleep: Callable[[float], None] = time.sleep,
                 max_margin_ms: float = MAX_MARGIN_MS) -> None:
        if not pictures:
            raise ValueError("no picture to stamp")
        self._pictures = list(pictures)
        self._quality = quality
        self._max_margin_ns = round(max_margin_ms * 1e6)
        self._clock_ns, self._sleep = clock_ns, sleep
        self._encodes: Deque[int] = collections.deque(maxlen=HISTORY)
        self.frames = 0
        self._first_ns = self._last_ns = 0  # the first and the last frame's time
        self.late_ms: List[float] = []  # how late each late frame was handed back

    def margin_ns(self) -> int:
        """How far ahead of now the next frame's time is drawn."""
        if not self._encodes:
            return self._max_margin_ns
        ordered = sorted(self._encodes)
        typical = ordered[(len(ordered) - 1) * 9 // 10]
        return min(self._max_margin_ns, typical * 3 // 2 + 1_000_000)

    def __call__(self, index: int) -> bytes:
        started = self._clock_ns()
        send_at = started + self.margin_ns()
        image = draw_stamp(self._pictures[index % len(self._pictures)].copy(), send_at // 1000)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        self._encodes.append(self._clock_ns() - started)
        remaining = send_at - self._clock_ns()
        if remaining > 0:
            self._sleep(remaining / 1e9)
        late = self._clock_ns() - send_at
        self._first_ns = self._first_ns or send_at
        self._last_ns = send_at
        self.frames += 1
        if late > LATE_NS:
            self.late_ms.append(late / 1e6)
        return encoded.tobytes()

    def frames_per_s(self) -> float:
        """Frames made per second from the first to the last (0 before the second)."""
        span = (self._last_ns - self._first_ns) / 1e9
        return (self.frames - 1) / span if span > 0 else 0.0

    def summary(self) -> str:
        """One line: frames made and their rate, how many were late and by how much."""
        text = (f"{self.frames} stamped frames ({self.frames_per_s():.1f}/s), "
                f"{len(self.late_ms)} handed over more than {LATE_NS / 1e6:g} ms after their "
                "stamp")
        if self.late_ms:
            text += (f" (by {statistics.median(self.late_ms):.1f} ms median, "
                     f"{max(self.late_ms):.1f} ms worst)")
        return text
