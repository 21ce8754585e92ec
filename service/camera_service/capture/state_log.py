"""A camera's state-change log lines, bounded however often the camera flaps.

A camera that fails and recovers every second (a loose cable, a flapping network link)
must not write a line per change: ``StateLog`` logs each change healthy <-> failing as it
happens while changes are rare - up to ``burst`` lines per ``period`` (a minute) - and then
only counts them, writing one summary line per ``period`` while the camera keeps flapping:
how many failures and recoveries, and the last reason. So one flapping camera writes at
most ``burst`` + 1 lines a minute; a camera that changes state a few times an hour logs
every change.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

_LOG = logging.getLogger("camera_service.capture.capture_thread")


class StateLog:
    """The state-change lines of camera ``camera`` (see module doc). Called from the
    camera's capture thread and its watchdog; a late summary is written at the next call
    (``tick`` from the capture loop costs one comparison while nothing is pending)."""

    def __init__(self, camera: str, period: float = 60.0, burst: int = 4,
                 clock: Callable[[], float] = time.monotonic,
                 logger: logging.Logger = _LOG) -> None:
        self.camera = camera
        self.period = period
        self.burst = burst
        self._clock = clock
        self._log = logger
        self._period_start = clock()
        self._lines = 0  # change lines written this period
        self._failures = self._recoveries = 0  # changes counted, not written
        self._last_reason = ""

    def failed(self, reason: str) -> None:
        """The camera went from healthy to failing for ``reason`` (one line)."""
        self.tick()
        if self._lines < self.burst:
            self._lines += 1
            self._log.warning("%s; retrying in the background", reason)
        else:
            self._failures += 1
            self._last_reason = reason

    def recovered(self) -> None:
        """The camera delivers again after failing."""
        self.tick()
        if self._lines < self.burst:
            self._lines += 1
            self._log.info("camera %r delivering again", self.camera)
        else:
            self._recoveries += 1

    def tick(self) -> None:
        """Write the summary of the changes counted once their period is over."""
        now = self._clock()
        if now - self._period_start < self.period:
            return
        if self._failures or self._recoveries:
            self._log.warning(
                "camera %r keeps failing and recovering: %d failures and %d recoveries in "
                "the last %.0f s not logged one by one (last: %s)", self.camera,
                self._failures, self._recoveries, now - self._period_start,
                self._last_reason)
            self._lines = self.burst  # still flapping: keep counting this period too
        else:
            self._lines = 0
        self._period_start = now
        self._failures = self._recoveries = 0
