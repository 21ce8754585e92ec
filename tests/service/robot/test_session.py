"""RobotSession: payload login through robot_sim, one clear line per refusal."""

from __future__ import annotations

import pytest
from camera_service.robot.login import read_payload_login
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.robot.session import AuthFailure, RobotSession


def _session(sim) -> RobotSession:
    target = RobotTarget(sim.address, sim.port, str(sim.ca_cert))
    return RobotSession(target, lambda: read_payload_login(
        str(sim.payload_credentials_file)))


def test_unauthorized_payload_is_one_clear_line(robot_sim, tmp_path):
    guid, secret = "0b1c2d3e-0000-4000-8000-00000000abcd", "s3cret-value"
    robot_sim.add_payload(guid, secret, authorized=False)
    creds = tmp_path / "creds"
    creds.write_text(f"{guid}\n{secret}\n")
    target = RobotTarget(robot_sim.address, robot_sim.port, str(robot_sim.ca_cert))
    session = RobotSession(target, lambda: read_payload_login(str(creds)))
    with pytest.raises(AuthFailure) as caught:
        session.authenticate()
    message = str(caught.value)
    assert message == (f"payload {guid} is not authorized yet: authorize it in the robot's "
                       "admin console (Payloads page)")
    assert secret not in message
