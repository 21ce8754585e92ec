"""The simulator as a separate process: CLI, robot.json, control, signals and ``exec``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from bosdyn.client.directory import DirectoryClient
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from bosdyn.client.payload import PayloadClient

from robot_sim import RobotSimulatorProcess
from robot_sim.process import LOG_FILE


@pytest.fixture
def sim_process(robot_sim_process):
    return robot_sim_process


def _run(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "robot_sim", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_robot_json_and_sdk_robot(sim_process):
    facts = json.loads((sim_process.state_dir / "robot.json").read_text())
    assert set(facts) == {"address", "port", "rest_port", "ca_cert", "username", "password",
                          "payload_credentials_file"}
    assert facts["port"] == sim_process.port > 0
    assert facts["rest_port"] == sim_process.rest_port > 0
    guid, secret = (sim_process.payload_credentials_file.read_text().split())
    assert guid == sim_process.payload_guid and secret
    robot = sim_process.sdk_robot()
    assert robot.ensure_client(DirectoryClient.default_service_name).list()


def test_control_reboot_and_sighup(sim_process, image_server):
    robot = sim_process.sdk_robot()
    robot.ensure_client(DirectoryRegistrationClient.default_service_name).register(
        "tiny-images", "bosdyn.api.ImageService", "tiny-images", "127.0.0.1", image_server.port)
    assert sim_process.wait_for_service("tiny-images", timeout=2).authority == \
        "tiny-images.spot.robot"
    sim_process.reboot(down_seconds=0.3)
    assert "tiny-images" not in [e.name for e in sim_process.directory_entries()]
    sim_process.wait_until_serving(5)

    sim_process.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    log = sim_process.state_dir / LOG_FILE
    while "reboot" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "reboot" in log.read_text()
    assert sim_process.password not in log.read_text()


def test_exec_runs_the_sdk_command_line_tool(sim_process):
    result = _run("exec", "--state-dir", str(sim_process.state_dir), "--",
                  sys.executable, "-m", "bosdyn.client", sim_process.address, "dir", "list")
    assert result.returncode == 0, result.stderr
    assert "directory-registration" in result.stdout
    assert "api.spot.robot" in result.stdout


def test_exec_without_simulator_is_one_line_error(tmp_path):
    result = _run("exec", "--state-dir", str(tmp_path), "--", "true")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "start the simulator first" in result.stderr


def test_port_in_use_is_one_line_error(sim_process, tmp_path):
    result = _run("--state-dir", str(tmp_path / "other"), "--port", str(sim_process.port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("robot_sim: error: cannot listen")
    assert "Traceback" not in result.stderr


def test_ctl_lists_directory(sim_process):
    result = _run("ctl", "--state-dir", str(sim_process.state_dir), "dir")
    assert result.returncode == 0, result.stderr
    assert "directory-registration" in result.stdout


def test_ctl_places_the_payload(sim_process):
    result = _run("ctl", "--state-dir", str(sim_process.state_dir), "payload-pose",
                  "0.1", "0", "0.2", "--quaternion", "0", "0", "0", "1")
    assert result.returncode == 0, result.stderr
    robot = sim_process.sdk_robot()
    (listed,) = robot.ensure_client(PayloadClient.default_service_name).list_payloads()
    pose = listed.body_tform_payload
    assert (pose.position.x, pose.position.z, pose.rotation.z) == (0.1, 0.2, 1.0)


def test_refuse_at_start_then_serving(tmp_path):
    with RobotSimulatorProcess(tmp_path / "sim", extra_args=["--refuse-at-start", "1"]) as sim:
        assert not sim.serving
        sim.wait_until_serving(10)
        robot = sim.sdk_robot()
        assert robot.ensure_client(DirectoryClient.default_service_name).list()
