"""Checks a user name and password with the robot's own auth service (the SDK's
``AuthClient``), the robot being the one the service is configured for.

``RobotAuthenticator.verify`` returns nothing on success and raises ``LoginRejected`` (the
robot said no) or ``RobotUnavailable`` (the robot could not be asked). The robot's token is
thrown away: the page keeps only its own session. Messages never contain the password.
"""

from __future__ import annotations

import threading

from bosdyn.client.exceptions import Error as SdkError
from bosdyn.client.exceptions import ResponseError

from camera_service.robot.login import PasswordLogin, describe_login_failure
from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot

AUTH_TIMEOUT = 5.0


class LoginRejected(Exception):
    """The robot refused the user name or password; ``str`` is one secret-free line."""


class RobotUnavailable(Exception):
    """The robot's auth service could not be reached; ``str`` is one line."""


class RobotAuthenticator:
    """Verifies robot users against ``target`` (one SDK robot object, reused)."""

    def __init__(self, target: RobotTarget, client_name: str = "camera-settings-page") -> None:
        self.target = target
        self._client_name = client_name
        self._robot = None
        self._lock = threading.Lock()

    def verify(self, username: str, password: str) -> None:
        with self._lock:
            robot = self._robot_object()
            try:
                PasswordLogin(username, password).apply(robot, AUTH_TIMEOUT)
            except ResponseError as err:
                raise LoginRejected(describe_login_failure(err)) from None
            except SdkError as err:
                raise RobotUnavailable(f"cannot ask robot {self.target} to check the login "
                                       f"({type(err).__name__}); is it on and reachable?"
                                       ) from None
            finally:
                robot.user_token = None

    def _robot_object(self):
        if self._robot is None:
            # the project's one factory: TLS port, fast reconnect, SDK logger held at INFO
            # (it logs requests, with the password, at debug)
            self._robot = make_sdk_robot(self.target, self._client_name)
        return self._robot
