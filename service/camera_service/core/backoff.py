"""Exponential backoff for anything retried until it works (camera open, robot calls)."""

from __future__ import annotations

import random
import time
from typing import Callable


class Backoff:
    """Delays that double from ``initial`` up to ``maximum`` seconds, with +-10 % jitter.

    ``next_delay()`` returns the delay to wait before the next attempt; ``reset()`` after a
    success starts again from ``initial``. ``failures`` counts attempts since the last reset,
    so a caller can log the first failure loudly and later ones quietly.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, jitter: float = 0.1) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.failures = 0
        self._random = random.Random()  # its own: the global one belongs to the caller

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * (2 ** min(self.failures, 30)))
        self.failures += 1
        return base * (1.0 + self._random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        self.failures = 0


class GoneBackoff(Backoff):
    """Delays that follow how long the thing has been gone, not how many attempts failed:
    ``growth`` x the time since the first failure after the last ``reset``, at least
    ``initial`` and at most ``maximum`` (+-10 % jitter).

    A camera that drops out is usually back within a second: it is retried every
    ``initial`` seconds at first; one gone for a long time is polled every ``maximum``
    seconds, which is also the longest a camera that came back waits for its reopen.
    """

    def __init__(self, initial: float = 0.1, maximum: float = 0.9, growth: float = 0.1,
                 jitter: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(initial, maximum, jitter)
        self.growth = growth
        self._clock = clock
        self._gone_since: float | None = None

    def next_delay(self) -> float:
        now = self._clock()
        if self._gone_since is None:
            self._gone_since = now
        self.failures += 1
        base = min(self.maximum, max(self.initial, self.growth * (now - self._gone_since)))
        return base * (1.0 + self._random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        super().reset()
        self._gone_since = None
