"""How the viewer logs in to a robot: as a user (username/password) or as a payload.

A ``Login`` never shows its secret: ``describe()`` and ``repr()`` name the method and the
user or payload GUID only, and no error message built here contains a password or secret.

The token is set on the ``Robot`` directly rather than with ``Robot.update_user_token``:
that would start the SDK's token refresher, which logs tracebacks while the robot is away.
The viewer logs in again instead when the robot rejects an expired token.
"""

from __future__ import annotations

import abc
from pathlib import Path

from bosdyn.client.auth import AuthClient, InvalidLoginError, TemporarilyLockedOutError
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)
from bosdyn.client.robot import Robot

from camera_service.robot.credentials import read_credentials_file


class Login(abc.ABC):
    """A way to obtain a user token for a ``bosdyn.client.Robot``."""

    @abc.abstractmethod
    def apply(self, robot: Robot, timeout: float) -> None:
        """Obtain a user token and set it on ``robot``. Raises the SDK's errors
        (``InvalidLoginError``, ``PayloadNotAuthorizedError``, ``RpcError`` ...) unchanged."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Who the viewer logs in as, for the page and logs (never the secret)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class PasswordLogin(Login):
    """Log in as a robot user."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password

    def apply(self, robot: Robot, timeout: float) -> None:
        client = robot.ensure_client(AuthClient.default_service_name)
        robot.user_token = client.auth(self.username, self._password, timeout=timeout)

    def describe(self) -> str:
        return f"user {self.username!r}"


class PayloadLogin(Login):
    """Log in with a payload's GUID and secret (the payload must be authorized on the robot).

    Unlike ``Robot.authenticate_from_payload_credentials`` this does not block while the
    payload is unauthorized: it raises ``PayloadNotAuthorizedError`` so the caller can say so.
    """

    def __init__(self, guid: str, secret: str) -> None:
        self.guid = guid
        self._secret = secret

    def apply(self, robot: Robot, timeout: float) -> None:
        client = robot.ensure_client(PayloadRegistrationClient.default_service_name)
        robot.user_token = client.get_payload_auth_token(self.guid, self._secret,
                                                         timeout=timeout)

    def describe(self) -> str:
        return f"payload {self.guid}"


def read_payload_login(path: Path) -> PayloadLogin:
    """Log in as the payload whose CORE I/O credentials file is ``path`` (GUID on line 1,
    secret on line 2). Raises ``CredentialsError`` with a one-line, secret-free message."""
    credentials = read_credentials_file(str(path))
    return PayloadLogin(credentials.guid, credentials.secret)


_REFUSAL_REASONS = (
    (PayloadNotAuthorizedError,
     "the payload is not authorized on the robot; authorize it in the admin console"),
    (InvalidPayloadCredentialsError,
     "the robot rejected the payload GUID or secret; check the payload credentials file"),
    (TemporarilyLockedOutError,
     "the robot temporarily locked out this user after failed logins; wait and retry"),
    (InvalidLoginError, "the robot rejected the username or password"),
)


def describe_login_failure(err: Exception) -> str:
    """A one-line reason for a refused login (a ``ResponseError`` from the login RPC),
    without any secret."""
    for error_type, reason in _REFUSAL_REASONS:
        if isinstance(err, error_type):
            return reason
    return f"the robot refused the login ({type(err).__name__})"
