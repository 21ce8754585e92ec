"""Pacing for sources that could deliver faster than real time (a file, a synthetic camera,
a snapshot URL polled at a set rate)."""

from __future__ import annotations

import time
from typing import Callable, Optional


class FramePacer:
    """Spaces calls of ``wait`` ``1/fps`` apart on the monotonic clock, without building up
    a backlog after a slow frame: a late call returns at once and the schedule restarts from
    it. One thread. ``clock`` and ``sleep`` are injectable (tests)."""

    def __init__(self, fps: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        self.fps = fps
        self.period = 1.0 / fps
        self._clock = clock
        self._sleep = sleep
        self._due: Optional[float] = None

    def wait(self) -> None:
        """Return when the next frame is due (at once for the first call, or when late)."""
        now = self._clock()
        if self._due is not None and self._due > now:
            self._sleep(self._due - now)
            now = self._due
        self._due = now + self.period
