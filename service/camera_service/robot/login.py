"""Logging in to a robot, written once: as a user (username/password) or as a payload.

Every part that logs in uses a ``Login``: the service's robot session (``robot.session``),
the settings page's user check (``settings_page.robot_auth``), the calibrate tool
(``calibrate.frames``) and the laptop viewer. ``PasswordLogin`` comes from the command line
or the SDK's environment variables (``password_login_from_env``), ``PayloadLogin`` from a
payload credentials file (``read_payload_login``) or a GUID and secret.

A ``Login`` never shows its secret: ``describe()`` and ``repr()`` name the method and the
user or payload GUID only, ``without_secret`` scrubs it from a message, and no error message
built here contains a password or secret; the login back-off knows it only by a salted
fingerprint.

The token is set on the ``Robot`` directly rather than with ``Robot.update_user_token``:
that would start the SDK's token refresher, which logs tracebacks while the robot is away.
Callers log in again instead when the robot rejects an expired token.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import Optional

from bosdyn.client.auth import AuthClient, InvalidLoginError, TemporarilyLockedOutError
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)
from bosdyn.client.robot import Robot

from camera_service.robot.credentials import read_credentials_file
from camera_service.robot.login_backoff import LoginBackoff

USERNAME_ENV = "BOSDYN_CLIENT_USERNAME"  # the SDK's own variable names
PASSWORD_ENV = "BOSDYN_CLIENT_PASSWORD"


class Login(abc.ABC):
    """A way to obtain a user token for a ``bosdyn.client.Robot``."""

    @abc.abstractmethod
    def apply(self, robot: Robot, timeout: float) -> None:
        """Obtain a user token and set it on ``robot``. Raises the SDK's errors
        (``InvalidLoginError``, ``PayloadNotAuthorizedError``, ``RpcError`` ...) unchanged."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Who logs in, for pages and logs (never the secret)."""

    @abc.abstractmethod
    def fingerprint(self, backoff: LoginBackoff) -> bytes:
        """These credentials as ``backoff`` knows them (a salted digest)."""

    @abc.abstractmethod
    def without_secret(self, text: str) -> str:
        """``text`` with the secret replaced by ``***`` should it appear."""

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

    def fingerprint(self, backoff: LoginBackoff) -> bytes:
        return backoff.fingerprint(self.username, self._password)

    def without_secret(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text


def password_login_from_env(username: Optional[str] = None,
                            password: Optional[str] = None) -> Optional[PasswordLogin]:
    """A user login from ``username``/``password``, each not given read from the SDK's
    environment variables (``BOSDYN_CLIENT_USERNAME``/``BOSDYN_CLIENT_PASSWORD``); None
    when either is missing."""
    username = username or os.environ.get(USERNAME_ENV)
    password = password or os.environ.get(PASSWORD_ENV)
    if not username or not password:
        return None
    return PasswordLogin(username, password)


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

    def fingerprint(self, backoff: LoginBackoff) -> bytes:
        return backoff.fingerprint(self.guid, self._secret)

    def without_secret(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def read_payload_login(path: Path | str) -> PayloadLogin:
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
