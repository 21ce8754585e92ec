"""Log volume bounded per kind: the first line of a kind at once, then at most one per
``interval`` seconds, each saying how many were held back since the last one.

``RateLimitedLog.note(kind, detail)`` is for events (a client dropping its connection, a
request that does not parse, a retry's library noise): counted always, logged when the
kind's interval has passed. ``RateLimitedLog.state(kind, state, detail)`` is for things
that change state (a camera failing and recovering): the first ``burst`` changes of a kind
within ``interval`` seconds are logged at once (a camera that fails and recovers is two
lines, as it happens); further ones are held back and the kind's current state is logged
by the next ``flush()`` (call it from any periodic thread) once the interval has passed,
with the number of changes in between - so the log always ends on the current state, and a
camera flapping every second writes a few lines a minute, not two per flap.
``counts()`` has the totals per kind (the service's counters). The clock is injectable.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional

_LOG = logging.getLogger(__name__)


@dataclass
class _Kind:
    last_logged: Optional[float] = None
    window_start: Optional[float] = None  # state kinds: the current interval's start
    lines: int = 0  # state kinds: lines written in the current interval
    held: int = 0  # notes or changes not logged since the last line
    state: Optional[str] = None  # the state last logged (state kinds)
    pending: Optional[tuple] = None  # (state, detail, level) of a held-back change


class RateLimitedLog:
    """Per-kind bounded logging (thread-safe); see the module doc."""

    def __init__(self, interval: float = 10.0, logger: logging.Logger = _LOG,
                 clock: Callable[[], float] = time.monotonic, burst: int = 1) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self._logger = logger
        self._clock = clock
        self._lock = threading.Lock()
        self._totals: Dict[str, int] = {}
        self._kinds: Dict[str, _Kind] = {}

    def note(self, kind: str, detail: str, level: int = logging.WARNING) -> bool:
        """Count one event of ``kind``; log it unless one was logged less than ``interval``
        ago. Returns whether a line was written."""
        now = self._clock()
        with self._lock:
            self._totals[kind] = self._totals.get(kind, 0) + 1
            entry = self._kinds.setdefault(kind, _Kind())
            if entry.last_logged is not None and now - entry.last_logged < self.interval:
                entry.held += 1
                return False
            held, entry.held, entry.last_logged = entry.held, 0, now
        more = (f" ({held} more since the last such line, {self.interval:g} s ago or more)"
                if held else "")
        self._logger.log(level, "%s: %s%s; logged at most every %g s", kind, detail, more,
                         self.interval)
        return True

    def state(self, kind: str, state: str, detail: str, level: int = logging.WARNING) -> bool:
        """``kind`` (e.g. one camera) is now in ``state``; ``detail`` is its one line. Logged
        at once while ``kind`` has written fewer than ``burst`` lines in its current interval,
        else held back for ``flush``. Returns whether a line was written."""
        now = self._clock()
        with self._lock:
            self._totals[kind] = self._totals.get(kind, 0) + 1
            entry = self._kinds.setdefault(kind, _Kind())
            if entry.window_start is None or now - entry.window_start >= self.interval:
                if entry.pending is not None:  # the held-back summary goes first
                    self._logger.log(entry.pending[2], "%s", self._summary(entry))
                entry.window_start, entry.lines, entry.held, entry.pending = now, 0, 0, None
            if entry.lines >= self.burst:
                entry.held += 1
                entry.pending = (state, detail, level)
                return False
            entry.lines += 1
            entry.last_logged, entry.state = now, state
        self._logger.log(level, "%s", detail)
        return True

    def flush(self) -> int:
        """Log the held-back state changes whose interval has passed (the kind's current
        state, with the count of changes since its last line). Returns lines written."""
        now = self._clock()
        lines = []
        with self._lock:
            for entry in self._kinds.values():
                start = entry.window_start
                if entry.pending is None or start is None or now - start < self.interval:
                    continue
                lines.append((entry.pending[2], self._summary(entry)))
                entry.state = entry.pending[0]
                # the summary opens a new interval with one line written
                entry.window_start, entry.lines, entry.held, entry.pending = now, 1, 0, None
                entry.last_logged = now
        for level, line in lines:
            self._logger.log(level, "%s", line)
        return len(lines)

    def _summary(self, entry: _Kind) -> str:
        _, detail, _ = entry.pending or (None, "", None)
        return (f"{detail} ({entry.held} change(s) in the last {self.interval:g} s not "
                "logged one by one; this is the current state)")

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._totals)
