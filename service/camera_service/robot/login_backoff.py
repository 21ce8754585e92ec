"""How soon to log in again after the robot refused the credentials.

A wrong password or payload secret retried every second is an account-lockout risk on a real
robot. After a refusal the same credentials are tried again only after ``initial`` seconds
(15), then after intervals that double up to ``maximum`` (5 minutes). Different credentials
(the operator fixed the credentials file) may be tried at once: they were never refused.

Credentials are known here only by a fingerprint (a salted SHA-256), never kept in clear.
The policy is a plain object with an injectable clock: ``RobotSession`` asks ``remaining``
before an attempt and reports ``refused``/``succeeded`` after it; ``RobotLink`` logs the
change of state once.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Callable, Optional

INITIAL_SECONDS = 15.0
MAXIMUM_SECONDS = 300.0


class LoginBackoff:
    """Back-off after refused logins (see module doc). Thread-safe."""

    def __init__(self, initial: float = INITIAL_SECONDS, maximum: float = MAXIMUM_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._clock = clock
        self._salt = os.urandom(16)
        self._lock = threading.Lock()
        self._refused: Optional[bytes] = None  # fingerprint of the refused credentials
        self._refusals = 0
        self._next_attempt = 0.0

    def fingerprint(self, *parts: str) -> bytes:
        """A salted digest of the credentials ``parts`` (e.g. GUID and secret)."""
        digest = hashlib.sha256(self._salt)
        for part in parts:
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return digest.digest()

    @property
    def refusals(self) -> int:
        """Refusals in a row of the current credentials (0 after a success)."""
        return self._refusals

    def remaining(self, fingerprint: bytes) -> float:
        """Seconds to wait before trying these credentials (0: try now)."""
        with self._lock:
            if self._refused != fingerprint:
                return 0.0
            return max(0.0, self._next_attempt - self._clock())

    def refused(self, fingerprint: bytes) -> float:
        """The robot refused these credentials; returns the wait before the next attempt."""
        with self._lock:
            if self._refused != fingerprint:
                self._refused, self._refusals = fingerprint, 0
            delay = min(self.maximum, self.initial * 2 ** min(self._refusals, 30))
            self._refusals += 1
            self._next_attempt = self._clock() + delay
            return delay

    def succeeded(self) -> None:
        """A login worked: forget every refusal."""
        with self._lock:
            self._refused, self._refusals, self._next_attempt = None, 0, 0.0
