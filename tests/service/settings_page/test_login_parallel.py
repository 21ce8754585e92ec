"""Issue 23, defect 6: parallel wrong passwords through the settings page reach the robot's
auth service at most ``allowed`` times (the wait was checked before asking the robot and the
failure recorded after: 21-27 of 40 got through). Real page, real SDK login, robot
simulator."""

from __future__ import annotations

import http.client
import json
import ssl
import threading

from camera_service.robot.sdk_robot import RobotTarget
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.http_api import SettingsServer
from camera_service.settings_page.robot_auth import RobotAuthenticator
from camera_service.settings_page.sessions import LoginLimiter
from camera_service.settings_page.tls import ensure_certificate
from camera_service.web.asgi_server import ServerLimits

PARALLEL = 40
ALLOWED = 5


class _Backend:
    service_name = "camera-image-service"


def _login(port: int, username: str, password: str) -> int:
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                             context=ssl._create_unverified_context())
    try:
        connection.request("POST", "/api/login", json.dumps(
            {"username": username, "password": password}),
            {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_parallel_wrong_passwords_reach_the_robot_at_most_allowed_times(robot_sim, tmp_path):
    asked = []
    check = robot_sim.state.check_login

    def counting(username, password):  # observe what reaches the robot's auth service
        asked.append(username)
        return check(username, password)

    robot_sim.state.check_login = counting
    config = tmp_path / "config.yaml"
    config.write_text("sources: []\n")
    auth = RobotAuthenticator(RobotTarget(robot_sim.address, robot_sim.port,
                                          str(robot_sim.ca_cert)))
    server = SettingsServer(("127.0.0.1", 0), ensure_certificate(tmp_path).server_context(),
                            _Backend(), ConfigStore(config), auth, session_seconds=60,
                            limiter=LoginLimiter(allowed=ALLOWED, lockout=60),
                            # all 40 connect at once from one address: let them in
                            limits=ServerLimits(max_per_client=2 * PARALLEL))
    server.start()
    try:
        statuses = []
        start = threading.Barrier(PARALLEL)

        def attempt(index: int) -> None:
            start.wait()
            statuses.append(_login(server.port, robot_sim.username, f"wrong-{index}"))

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        print(f"\n{PARALLEL} parallel wrong logins: {len(asked)} reached the robot; "
              f"statuses {sorted(set(statuses))}")
        assert len(statuses) == PARALLEL and 200 not in statuses
        assert len(asked) <= ALLOWED
        # and the right password, from the locked-out page, still does not reach the robot
        before = len(asked)
        assert _login(server.port, robot_sim.username, robot_sim.password) in (401, 429)
        assert len(asked) == before
    finally:
        server.stop()
