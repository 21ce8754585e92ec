"""An SDK ``Robot`` pointed at the configured robot, authenticated as the payload.

``authenticate`` makes one attempt and turns every outcome into either success or an
``AuthFailure`` whose message is one operator-facing line (never the secret). The caller
(``RobotLink``) retries with backoff. A token the robot refuses later is replaced by calling
``authenticate`` again.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from bosdyn.client.auth import InvalidLoginError, TemporarilyLockedOutError
from bosdyn.client.exceptions import (
    Error as SdkError,
)
from bosdyn.client.exceptions import (
    RetryableRpcError,
    RpcError,
)
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)

from camera_service.robot.credentials import CredentialsError, PayloadCredentials
from camera_service.robot.login_backoff import LoginBackoff
from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot

_LOG = logging.getLogger(__name__)
AUTH_TIMEOUT = 5.0


class AuthFailure(RuntimeError):
    """Authentication did not succeed this time; the message says why and what to do."""


class LoginRefused(AuthFailure):
    """The robot refused the credentials; ``retry_in`` seconds pass before the same ones are
    tried again (``LoginBackoff``)."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class LoginDeferred(AuthFailure):
    """No attempt made: these credentials were refused and their back-off has ``retry_in``
    seconds to go."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"login deferred for {retry_in:.0f} s")
        self.retry_in = retry_in


class RobotSession:
    """The SDK robot object and its token.

    ``credentials`` is called on every attempt (so a credentials file fixed meanwhile is
    picked up) and returns ``PayloadCredentials``; with ``user_login`` set instead (username,
    password), the session logs in as a user ("external" mode of the SDK example).
    """

    def __init__(self, target: RobotTarget,
                 credentials: Callable[[], PayloadCredentials] | None = None,
                 user_login: tuple | None = None, client_name: str = "camera-image-service",
                 login_backoff: LoginBackoff | None = None):
        if (credentials is None) == (user_login is None):
            raise ValueError("give exactly one of credentials or user_login")
        self.login_backoff = login_backoff or LoginBackoff()
        self.target = target
        self._credentials = credentials
        self._user_login = user_login
        self.robot = make_sdk_robot(target, client_name)
        self.payload_guid: str | None = None
        self.authenticated_at: float | None = None  # time.monotonic() of the last success

    @property
    def authenticated(self) -> bool:
        return self.authenticated_at is not None

    def invalidate(self) -> None:
        """Forget the token (the robot refused it); the next ``authenticate`` gets a new one."""
        self.authenticated_at = None

    def authenticate(self, timeout: float = AUTH_TIMEOUT) -> None:
        """One attempt to obtain a token, each robot call within ``timeout`` seconds. Raises
        ``AuthFailure`` with a secret-free message."""
        if self._user_login is not None:
            self._login_as_user(timeout)
        else:
            self._login_as_payload(timeout)
        self.authenticated_at = time.monotonic()

    def _login_as_payload(self, timeout: float) -> None:
        try:
            creds = self._credentials()
        except CredentialsError as err:
            raise AuthFailure(str(err)) from None
        self.payload_guid = creds.guid
        fingerprint = self._may_try(creds.guid, creds.secret)
        client = self.client(PayloadRegistrationClient)
        try:
            token = client.get_payload_auth_token(creds.guid, creds.secret, timeout=timeout)
        except PayloadNotAuthorizedError:
            # Right credentials waiting for the admin console: retried at the link's pace.
            raise AuthFailure(
                f"payload {creds.guid} is not authorized yet: authorize it in the robot's "
                "admin console (Payloads page)") from None
        except InvalidPayloadCredentialsError:
            raise LoginRefused(
                f"robot {self.target} does not know payload {creds.guid} with this secret: "
                "check the payload credentials file (or --guid/--secret)",
                self.login_backoff.refused(fingerprint)) from None
        except SdkError as err:
            raise AuthFailure(self.describe_rpc_error(err, creds.secret)) from None
        self.login_backoff.succeeded()
        # Set the token directly: Robot.update_user_token would start the SDK's token
        # refresher, which logs tracebacks; RobotLink re-authenticates instead.
        self.robot.user_token = token

    def _login_as_user(self, timeout: float) -> None:
        username, password = self._user_login
        fingerprint = self._may_try(username, password)
        try:
            self.robot.authenticate(username, password, timeout=timeout)
        except (InvalidLoginError, TemporarilyLockedOutError) as err:
            raise LoginRefused(
                f"robot {self.target} refused the login of user {username!r} "
                f"({type(err).__name__}): check BOSDYN_CLIENT_USERNAME/BOSDYN_CLIENT_PASSWORD",
                self.login_backoff.refused(fingerprint)) from None
        except SdkError as err:
            raise AuthFailure(self.describe_rpc_error(err, password)) from None
        self.login_backoff.succeeded()

    def _may_try(self, *credentials: str) -> bytes:
        """The credentials' fingerprint; ``LoginDeferred`` while they are backed off."""
        fingerprint = self.login_backoff.fingerprint(*credentials)
        remaining = self.login_backoff.remaining(fingerprint)
        if remaining > 0:
            raise LoginDeferred(remaining)
        return fingerprint

    def client(self, client_class):
        """The SDK client for ``client_class`` (on the robot's fast-reconnecting channels)."""
        return self.robot.ensure_client(client_class.default_service_name)

    def describe_rpc_error(self, err: Exception, secret: str | None = None) -> str:
        """One line for a failed robot call, with ``secret`` scrubbed should it appear."""
        if isinstance(err, RetryableRpcError):
            text = (f"robot {self.target} is unreachable ({type(err).__name__}): is it "
                    "powered on and on the network?")
        elif isinstance(err, RpcError):
            text = f"robot {self.target} refused the call ({type(err).__name__}): {err}"
        else:
            text = f"robot {self.target} answered with an error ({type(err).__name__}): {err}"
        text = " ".join(text.split())[:300]
        if secret:
            text = text.replace(secret, "***")
        return text
