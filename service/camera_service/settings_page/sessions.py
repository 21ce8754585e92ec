"""Login sessions of the settings page and the per-client failed-login limit.

A ``Session`` is all the page keeps of a login: the user name, a random id (the cookie) and
a random CSRF token the page must send back on every state-changing request. Neither the
password nor the robot's token is kept. Sessions end at ``logout`` or ``lifetime`` seconds
after login, whichever comes first. Tokens are compared in constant time.

``LoginLimiter`` counts failed logins per key (a client address, or an account): after
``allowed`` failures the key must wait (``lockout`` seconds, doubling on each further
failure up to ``max_lockout``) before the robot is asked again, so a guessing client never
hammers the robot's auth service. A success clears the key's count. Attempts are counted
*before* they are made: ``begin(key)`` refuses (returns the wait) or counts the attempt as in
flight, and an attempt in flight counts as a failure until ``failed``/``succeeded`` (or
``abandoned``) settles it - 40 parallel wrong passwords reach the robot ``allowed`` times,
not as many as got past a check made before any of them failed. The table is bounded
(``max_keys``): when full, keys with nothing to remember are dropped first, and a new key
waits rather than evicting one that is locked out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

Clock = Callable[[], float]


@dataclass
class Session:
    id: str
    csrf_token: str
    username: str
    expires_at: float  # on the store's clock

    def csrf_ok(self, token: Optional[str]) -> bool:
        return token is not None and token != "" and hmac.compare_digest(
            token.encode(), self.csrf_token.encode())


class SessionStore:
    """Thread-safe sessions by id; expired ones are dropped when looked up."""

    def __init__(self, lifetime: float, clock: Clock = time.monotonic) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._sessions: Dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, username: str) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), username,
                          self._clock() + self.lifetime)
        with self._lock:
            self._drop_expired()
            self._sessions[session.id] = session
        return session

    def get(self, session_id: Optional[str]) -> Optional[Session]:
        """The live session of that id, else None."""
        if not session_id:
            return None
        with self._lock:
            self._drop_expired()
            return self._sessions.get(session_id)

    def remaining(self, session: Session) -> float:
        return max(0.0, session.expires_at - self._clock())

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    lockouts: int = 0
    in_flight: int = 0


@dataclass
class LoginLimiter:
    """Failed-login bookkeeping per key (see module doc). Thread-safe."""

    allowed: int = 5
    lockout: float = 30.0
    max_lockout: float = 900.0
    clock: Clock = time.monotonic
    max_keys: int = 4096
    _clients: Dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self, client: str) -> float:
        """Seconds ``client`` must wait before its next attempt (0 = may try now), counting
        attempts in flight as failures. A query: nothing is counted (``begin`` counts)."""
        with self._lock:
            return self._wait(self._clients.get(client))

    def begin(self, client: str) -> float:
        """Start one attempt: returns the seconds to wait (> 0: refused, nothing counted) or
        0 with the attempt counted as in flight - settle it with ``failed``, ``succeeded`` or
        ``abandoned``."""
        with self._lock:
            entry = self._clients.get(client)
            if entry is None:
                if len(self._clients) >= self.max_keys and not self._prune():
                    return self.lockout  # full of keys locked out: newcomers wait
                entry = self._clients[client] = _Failures()
            wait = self._wait(entry)
            if wait > 0:
                return wait
            entry.in_flight += 1
            return 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            entry = self._clients.setdefault(client, _Failures())
            entry.in_flight = max(0, entry.in_flight - 1)
            entry.count += 1
            if entry.count >= self.allowed:
                delay = min(self.max_lockout, self.lockout * (2 ** entry.lockouts))
                entry.lockouts += 1
                entry.count = 0
                entry.locked_until = self.clock() + delay

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def abandoned(self, client: str) -> None:
        """An attempt ``begin`` counted was not made after all (the robot could not be
        asked): it no longer counts."""
        with self._lock:
            entry = self._clients.get(client)
            if entry is not None:
                entry.in_flight = max(0, entry.in_flight - 1)

    def _wait(self, entry: Optional[_Failures]) -> float:
        if entry is None:
            return 0.0
        locked = max(0.0, entry.locked_until - self.clock())
        if locked > 0:
            return locked
        if entry.count + entry.in_flight >= self.allowed:
            # the attempts in flight may lock the key: wait for them (at most the lockout)
            return min(self.lockout, self.max_lockout)
        return 0.0

    def _prune(self) -> bool:
        """Drop keys with nothing to remember (not locked, nothing in flight); True if any
        room was made."""
        now = self.clock()
        idle = [key for key, entry in self._clients.items()
                if entry.in_flight == 0 and entry.locked_until <= now]
        for key in idle:
            del self._clients[key]
        return bool(idle)
