"""Exponential backoff for anything retried until it works (camera open, robot calls)."""

from __future__ import annotations

import random


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
