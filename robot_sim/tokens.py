"""User tokens: real JWTs signed by the simulated robot.

A token names its subject (a user name or a payload GUID) and kind. Rotating the signing key
(``rotate_key``) invalidates every token issued so far, as when a robot's key changes.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ISSUER = "robot_sim"
DEFAULT_LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says about its holder."""

    subject: str
    kind: str  # "user" or "payload"


class TokenAuthority:
    """Issues and verifies the robot's user tokens. Thread-safe."""

    def __init__(self, serial_number: str, lifetime_seconds: float = DEFAULT_LIFETIME_SECONDS):
        self._serial = serial_number
        self._lifetime = lifetime_seconds
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)

    def rotate_key(self) -> None:
        """Use a new signing key: tokens issued before no longer verify."""
        with self._lock:
            self._key = secrets.token_bytes(32)

    def issue(self, subject: str, kind: str) -> str:
        """A new signed token for ``subject`` of ``kind`` ("user" or "payload")."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "kind": kind,
            "aud": self._serial,
            "iat": now,
            "exp": now + int(self._lifetime),
            "jti": uuid.uuid4().hex,
        }
        with self._lock:
            key = self._key
        return jwt.encode(claims, key, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a valid, unexpired token of this robot; None otherwise."""
        with self._lock:
            key = self._key
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self._serial, issuer=ISSUER
            )
        except jwt.PyJWTError:
            return None
        return TokenClaims(subject=str(claims.get("sub", "")), kind=str(claims.get("kind", "")))


def bearer_token(metadata) -> str | None:
    """The token of an ``authorization: Bearer <token>`` entry in gRPC metadata, if any."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[len("Bearer "):].strip()
    return None
