"""Checks a user name and password with the robot's own auth service (the SDK's
``AuthClient``), the robot being the one the service is configured for.

``RobotAuthenticator.verify`` returns nothing on success and raises ``LoginRejected`` (the
robot said no) or ``RobotUnavailable`` (the robot could not be asked). The robot's token is
thrown away: the page keeps only its own session. Messages never contain the password.

A robot locks an account after repeated wrong passwords, whoever sent them. So besides the
page's per-client limit, attempts are limited per account here (``accounts``, a
``LoginLimiter`` keyed by user name): one attempt at a time reaches the robot (the check,
the robot's answer and the count happen under one lock), and an account with ``allowed``
wrong passwords is refused without asking the robot until its lockout has passed - however
many clients try it in parallel.
"""

from __future__ import annotations

import threading

from bosdyn.client.exceptions import Error as SdkError
from bosdyn.client.exceptions import ResponseError

from camera_service.robot.login import PasswordLogin, describe_login_failure
from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot
from camera_service.settings_page.sessions import LoginLimiter

AUTH_TIMEOUT = 5.0


class LoginRejected(Exception):
    """The robot refused the user name or password; ``str`` is one secret-free line."""


class RobotUnavailable(Exception):
    """The robot's auth service could not be reached; ``str`` is one line."""


class RobotAuthenticator:
    """Verifies robot users against ``target`` (one SDK robot object, reused)."""

    def __init__(self, target: RobotTarget, client_name: str = "camera-settings-page",
                 accounts: LoginLimiter | None = None) -> None:
        self.target = target
        self._client_name = client_name
        self._robot = None
        self._lock = threading.Lock()
        self.accounts = accounts or LoginLimiter()

    def verify(self, username: str, password: str) -> None:
        with self._lock:  # one attempt in flight: counted before the next is checked
            robot = self._robot_object()
            wait = self.accounts.begin(username)
            if wait > 0:
                raise LoginRejected(f"too many wrong passwords for this user; the robot is "
                                    f"not asked again for {wait:.0f} s (it would lock the "
                                    "account)")
            try:
                PasswordLogin(username, password).apply(robot, AUTH_TIMEOUT)
            except ResponseError as err:
                self.accounts.failed(username)
                raise LoginRejected(describe_login_failure(err)) from None
            except SdkError as err:
                self.accounts.abandoned(username)
                raise RobotUnavailable(f"cannot ask robot {self.target} to check the login "
                                       f"({type(err).__name__}); is it on and reachable?"
                                       ) from None
            except BaseException:
                self.accounts.abandoned(username)
                raise
            finally:
                robot.user_token = None
            self.accounts.succeeded(username)

    def _robot_object(self):
        if self._robot is None:
            # the project's one factory: TLS port, fast reconnect, SDK logger held at INFO
            # (it logs requests, with the password, at debug)
            self._robot = make_sdk_robot(self.target, self._client_name)
        return self._robot
