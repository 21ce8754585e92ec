"""Payload credentials in the CORE I/O format: a file with the GUID on line 1 and the secret
on line 2 (``/opt/payload_credentials/payload_guid_and_secret``).

Unlike ``bosdyn.client.util.read_payload_credentials`` no message here ever contains the
secret (or any line of the file).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from camera_service.core.redaction import register_secret
from camera_service.schema.sections import DEFAULT_CREDENTIALS_FILE  # noqa: F401  (re-exported)

_GUID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{2,63}$")


class CredentialsError(RuntimeError):
    """The credentials cannot be used. The message is one operator-facing line, secret-free."""


@dataclass(frozen=True)
class PayloadCredentials:
    """A payload's GUID and secret; ``repr``/``str`` never show the secret."""

    guid: str
    secret: str = field(repr=False)

    def __str__(self) -> str:
        return f"payload {self.guid}"


def check_credentials(guid: str, secret: str, origin: str) -> PayloadCredentials:
    """Validate a GUID/secret pair from ``origin`` (e.g. "--guid/--secret"); raises
    ``CredentialsError`` naming the problem, never the secret."""
    if not guid or not secret:
        raise CredentialsError(f"{origin}: both a payload GUID and a secret are needed")
    if not _GUID.match(guid):
        raise CredentialsError(f"{origin}: the payload GUID is malformed (expected letters, "
                               "digits and '-', like 0a1b2c3d-...)")
    if any(ch.isspace() for ch in secret):
        raise CredentialsError(f"{origin}: the payload secret contains whitespace")
    register_secret(secret)  # logs scrub it should anything ever echo it
    return PayloadCredentials(guid, secret)


def read_credentials_file(path: str) -> PayloadCredentials:
    """Read a CORE I/O credentials file. Raises ``CredentialsError`` for a missing, unreadable
    or malformed file, with a fix in the message."""
    hint = ("the CORE I/O writes it once the payload is registered; mount it into the "
            "container or pass --payload-credentials-file")
    if not os.path.exists(path):
        raise CredentialsError(f"payload credentials file {path} does not exist; {hint}")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(4096)
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise CredentialsError(f"cannot read payload credentials file {path} ({reason}); "
                               "check its permissions for the service's user") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 2:
        raise CredentialsError(f"payload credentials file {path} is malformed: expected 2 "
                               f"non-empty lines (GUID, secret), found {len(lines)}")
    return check_credentials(lines[0], lines[1], f"payload credentials file {path}")
