"""Kernel monotonic time -> local wall-clock time.

V4L2 drivers stamp each buffer with ``CLOCK_MONOTONIC`` (the time the frame was taken, not
when a program read it). The service reports frames in wall-clock seconds (``time.time()``,
converted to robot time by ``robot.time_sync``), so a buffer time is mapped through the
offset between the two clocks.

The offset is measured by reading wall, monotonic, wall in a row a few times and keeping the
tightest bracket (the read least disturbed by scheduling); its error is at most half that
bracket, typically a microsecond. The wall clock may be stepped or slewed (NTP), so the
offset is measured again every ``refresh`` seconds of monotonic time.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Tuple

Clock = Callable[[], float]


def kernel_monotonic() -> float:
    """``CLOCK_MONOTONIC`` in seconds: the clock of V4L2's monotonic buffer timestamps."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class MonotonicToWall:
    """Maps ``CLOCK_MONOTONIC`` seconds to wall-clock seconds. Thread-safe.

    ``monotonic`` and ``wall`` are injectable (tests); ``samples``: bracketed reads per
    measurement; ``refresh``: seconds of monotonic time a measured offset is used for.
    """

    def __init__(self, monotonic: Clock = kernel_monotonic, wall: Clock = time.time,
                 samples: int = 5, refresh: float = 10.0) -> None:
        if samples < 1:
            raise ValueError("samples must be >= 1")
        self.monotonic = monotonic
        self.wall = wall
        self.samples = samples
        self.refresh = refresh
        self._lock = threading.Lock()
        self._offset: Optional[float] = None
        self._measured_at = 0.0  # monotonic time of the last measurement
        self.bracket = 0.0  # width of the tightest bracket of the last measurement (s)

    def measure(self) -> Tuple[float, float]:
        """A fresh (offset, bracket width): ``wall = monotonic + offset`` to within half the
        bracket."""
        best: Optional[Tuple[float, float, float]] = None  # width, offset, monotonic
        for _ in range(self.samples):
            before = self.wall()
            mono = self.monotonic()
            after = self.wall()
            width = after - before
            if best is None or width < best[0]:
                best = (width, (before + after) / 2.0 - mono, mono)
        assert best is not None
        width, offset, mono = best
        with self._lock:
            self._offset, self._measured_at, self.bracket = offset, mono, width
        return offset, width

    def offset(self) -> float:
        """The current offset (wall - monotonic), measured again when stale."""
        with self._lock:
            offset, measured_at = self._offset, self._measured_at
        if offset is None or self.monotonic() - measured_at >= self.refresh:
            offset, _ = self.measure()
        return offset

    def to_wall(self, monotonic_seconds: float) -> float:
        """The wall-clock time of a ``CLOCK_MONOTONIC`` time."""
        return monotonic_seconds + self.offset()
