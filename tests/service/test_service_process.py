"""The service as a process: SIGTERM unregisters and exits in time; the healthcheck."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

NAME = "web-cam-service"  # the SDK example's command-line form registers its names


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _terminate(process):
    """SIGTERM ``process``; asserts it exits cleanly (status 0) within 5 s. Returns its
    stderr."""
    start = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    elapsed = time.monotonic() - start
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert elapsed < 5.0
    return stderr


def _healthcheck(port):
    return subprocess.run([sys.executable, "-m", "camera_service.cli.healthcheck", "--port",
                           str(port)], capture_output=True, text=True, timeout=10)


def test_sigterm_unregisters_and_exits_within_5_seconds(robot_sim):
    port = _free_port()
    secret = robot_sim.payload_credentials_file.read_text().split()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "camera_service", "payload", robot_sim.address,
         "--robot-port", str(robot_sim.port), "--robot-ca-cert", str(robot_sim.ca_cert),
         "--payload-credentials-file", str(robot_sim.payload_credentials_file),
         "--host-ip", "127.0.0.1", "--port", str(port), "--device-name", "synthetic:front",
         "--device-name", "synthetic:rear", "-v"],  # debug logging must not leak either
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        entry = robot_sim.wait_for_service(NAME, timeout=20)
        assert entry.authority == "robot-web-cam.spot.robot"
        health = _healthcheck(port)
        assert health.returncode == 0, health.stderr
        assert "2 source(s): front, rear" in health.stdout
    finally:
        stderr = _terminate(process)
    assert all(e.name != NAME for e in robot_sim.directory_entries())
    assert "Traceback" not in stderr
    assert secret not in stderr
    assert "unregistered" in stderr


def test_healthcheck_fails_with_one_line_when_nothing_listens():
    result = _healthcheck(_free_port())
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "did not answer ListImageSources" in result.stderr


def test_port_in_use_exits_non_zero_with_one_line():
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "camera_service", "127.0.0.1", "--port", str(port),
             "--device-name", "synthetic"],
            capture_output=True, text=True, timeout=20,
            env={**os.environ, "CAMERA_SERVICE_CONFIG": ""})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "cannot listen" in errors[0]
    assert "Traceback" not in result.stderr



def test_sigterm_while_the_robot_is_unreachable(tmp_path):
    creds = tmp_path / "creds"
    creds.write_text("0a1b2c3d-0000-1111\nnotasecretreally\n")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "camera_service", "127.0.0.1", "--robot-port", str(_free_port()),
         "--payload-credentials-file", str(creds), "--host-ip", "127.0.0.1",
         "--port", str(port), "--device-name", "synthetic"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if _healthcheck(port).returncode == 0:
                break
            time.sleep(0.1)
        assert _healthcheck(port).returncode == 0  # serving although the robot is away
        time.sleep(1.0)
    finally:
        stderr = _terminate(process)
    assert len([line for line in stderr.splitlines() if "unreachable" in line]) == 1
    assert "Traceback" not in stderr


def test_sighup_applies_the_config_file_again(robot_sim, tmp_path):
    """A hand edit applied at SIGHUP, without a restart (the file watcher, which needs two
    1-s checks to see a settled edit, would apply it too: either way exactly once)."""
    import yaml
    from service_test_helpers import service_config

    path = tmp_path / "config.yaml"
    service_config(robot_sim, [{"name": "front", "type": "synthetic", "fps": 5}], path=path)
    process = subprocess.Popen(
        [sys.executable, "-m", "camera_service", "--config", str(path), "--port",
         str(_free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        robot_sim.wait_for_service("camera-image-service", timeout=20)
        data = yaml.safe_load(path.read_text())
        data["sources"].append({"name": "rear", "type": "synthetic", "fps": 5})
        path.write_text(yaml.safe_dump(data))
        process.send_signal(signal.SIGHUP)
        robot = robot_sim.sdk_robot()
        deadline = time.monotonic() + 20
        while True:
            robot.sync_with_directory()
            try:  # while the list is republished the service is briefly not in the directory
                names = {s.name for s in robot.ensure_client("camera-image-service")
                         .list_image_sources()}
            except Exception as err:
                names = {type(err).__name__}
            if names == {"front", "rear"}:
                break
            assert time.monotonic() < deadline, names
            time.sleep(0.2)
    finally:
        stderr = _terminate(process)
    assert "SIGHUP: applying the config file again" in stderr
    assert stderr.count("added rear") == 1
