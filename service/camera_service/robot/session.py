"""An SDK ``Robot`` pointed at the configured robot, authenticated as the payload (or as a
user), through the one ``robot.login``.

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
)

from camera_service.robot.credentials import CredentialsError
from camera_service.robot.login import (
    PASSWORD_ENV,
    USERNAME_ENV,
    Login,
    PayloadLogin,
)
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

    ``login`` is called on every attempt (so a credentials file fixed meanwhile is picked
    up) and returns the ``Login`` to use: a ``PayloadLogin`` (the payload's credentials) or
    a ``PasswordLogin`` ("external" mode of the SDK example). It raises ``CredentialsError``
    when the credentials cannot be read.
    """

    def __init__(self, target: RobotTarget, login: Callable[[], Login],
                 client_name: str = "camera-image-service",
                 login_backoff: LoginBackoff | None = None):
        self.login_backoff = login_backoff or LoginBackoff()
        self.target = target
        self._login = login
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
        try:
            login = self._login()
        except CredentialsError as err:
            raise AuthFailure(str(err)) from None
        if isinstance(login, PayloadLogin):
            self.payload_guid = login.guid
        fingerprint = login.fingerprint(self.login_backoff)
        remaining = self.login_backoff.remaining(fingerprint)
        if remaining > 0:
            raise LoginDeferred(remaining)
        try:
            login.apply(self.robot, timeout)
        except PayloadNotAuthorizedError:
            # Right credentials waiting for the admin console: retried at the link's pace.
            raise AuthFailure(
                f"{login.describe()} is not authorized yet: authorize it in the robot's "
                "admin console (Payloads page)") from None
        except (InvalidPayloadCredentialsError, InvalidLoginError,
                TemporarilyLockedOutError) as err:
            raise LoginRefused(self._refusal(login, err),
                               self.login_backoff.refused(fingerprint)) from None
        except SdkError as err:
            raise AuthFailure(login.without_secret(self.describe_rpc_error(err))) from None
        self.login_backoff.succeeded()
        self.authenticated_at = time.monotonic()

    def _refusal(self, login: Login, err: Exception) -> str:
        """One line for credentials the robot refused, naming where to fix them."""
        if isinstance(login, PayloadLogin):
            return (f"robot {self.target} does not know {login.describe()} with this secret: "
                    "check the payload credentials file (or --guid/--secret)")
        return (f"robot {self.target} refused the login of {login.describe()} "
                f"({type(err).__name__}): check {USERNAME_ENV}/{PASSWORD_ENV}")

    def client(self, client_class):
        """The SDK client for ``client_class`` (on the robot's fast-reconnecting channels)."""
        return self.robot.ensure_client(client_class.default_service_name)

    def describe_rpc_error(self, err: Exception) -> str:
        """One line for a failed robot call (the caller scrubs a secret it may hold)."""
        if isinstance(err, RetryableRpcError):
            text = (f"robot {self.target} is unreachable ({type(err).__name__}): is it "
                    "powered on and on the network?")
        elif isinstance(err, RpcError):
            text = f"robot {self.target} refused the call ({type(err).__name__}): {err}"
        else:
            text = f"robot {self.target} answered with an error ({type(err).__name__}): {err}"
        return " ".join(text.split())[:300]
