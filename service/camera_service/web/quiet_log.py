"""Log volume bounded per kind, for the web server's refusals and client mishaps.

``QuietLog.note(kind, detail)`` counts one event of ``kind`` (a refused connection, a request
that does not parse, a cross-site post) and logs it when no line of that kind was written in
the last ``interval`` seconds, saying how many were held back since. So 800 refused
connections are a line or two, not 800. ``counts()`` has the totals per kind.

A small stand-in kept in ``web`` (below ``serving``, whose ``malformed.RateLimitedLog`` it
cannot import); it has the same ``note(kind, detail, level)`` call as ``core``'s rate-limited
log, so the two can become one when that lands.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, Tuple


class QuietLog:
    """Per-kind rate-limited lines (thread-safe); see the module doc."""

    def __init__(self, logger: logging.Logger, interval: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._logger = logger
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: Dict[str, Tuple[float, int]] = {}  # kind -> (last logged, held back)
        self._totals: Dict[str, int] = {}

    def note(self, kind: str, detail: str, level: int = logging.WARNING) -> bool:
        """Count one ``kind`` event; log ``detail`` unless a line of that kind was written
        less than ``interval`` seconds ago. Returns whether a line was written."""
        now = self._clock()
        with self._lock:
            self._totals[kind] = self._totals.get(kind, 0) + 1
            last, held = self._kinds.get(kind, (None, 0))
            if last is not None and now - last < self.interval:
                self._kinds[kind] = (last, held + 1)
                return False
            self._kinds[kind] = (now, 0)
        more = f" ({held} more like it not logged)" if held else ""
        self._logger.log(level, "%s%s; such lines at most every %g s", detail, more,
                         self.interval)
        return True

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._totals)
