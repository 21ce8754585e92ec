"""Command line: the SDK example's command lines, flags over config, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from camera_service.cli import load_config


def test_sdk_example_payload_command_line():
    config = load_config(["payload", "10.1.2.3", "--guid", "0a1b2c3d-1111", "--secret", "s3cr3t",
                          "--host-ip", "10.1.2.5", "--port", "21300", "--device-name",
                          "/dev/video0", "--device-name", "1", "--codec", "MJPG",
                          "--res-width", "1280", "--res-height", "720", "-v"])
    assert config.robot.mode == "payload" and config.robot.hostname == "10.1.2.3"
    assert (config.robot.guid, config.robot.host_ip, config.service.port) == (
        "0a1b2c3d-1111", "10.1.2.5", 21300)
    assert [(e.type, e.settings.name) for e in config.sources] == [
        ("v4l2", "video0"), ("v4l2", "video1")]
    assert config.sources[0].settings.options == {"device": "/dev/video0", "codec": "MJPG"}
    assert config.sources[1].settings.options["device"] == 1
    assert (config.sources[0].settings.width, config.sources[0].settings.height) == (1280, 720)
    assert config.log_level == "debug"


def test_compose_files_device_flag_and_external_mode():
    config = load_config(["external", "robot.local", "--device", "/dev/video2"])
    assert config.robot.mode == "external"
    assert config.sources[0].settings.options["device"] == "/dev/video2"


def test_hostname_alone_and_synthetic_devices():
    config = load_config(["10.0.0.9", "--device-name", "synthetic",
                          "--device-name", "synthetic:rear"])
    assert config.robot.hostname == "10.0.0.9" and config.robot.mode == "payload"
    assert [(e.type, e.settings.name) for e in config.sources] == [
        ("synthetic", "synthetic"), ("synthetic", "rear")]


def test_flags_win_over_the_config_file(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("robot: {hostname: 10.0.0.1, port: 4443}\nservice: {port: 21500}\n"
                    "sources: [{name: a, type: synthetic}]\n")
    monkeypatch.setenv("CAMERA_SERVICE_CONFIG", str(path))
    config = load_config(["--port", "21600", "--robot-port", "5000"])
    assert (config.robot.hostname, config.robot.port, config.service.port) == (
        "10.0.0.1", 5000, 21600)
    assert [e.settings.name for e in config.sources] == ["a"]


def _run(*args, timeout=20):
    return subprocess.run([sys.executable, "-m", "camera_service", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(("args", "needle"), [
    (["--port", "99999", "--device-name", "synthetic"], "service.port"),
    (["--guid", "abc"], "guid and secret go together"),
    (["--robot-ca-cert", "/nonexistent/ca.pem"], "robot.ca_cert"),
])
def test_bad_config_exits_2_with_one_line(args, needle):
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "Traceback" not in result.stderr


def test_secret_never_printed_on_bad_guid():
    result = _run("--guid", "not a guid!", "--secret", "TOPSECRET123", "--device-name",
                  "synthetic", "--port", "0")
    assert result.returncode == 2
    assert "TOPSECRET123" not in result.stderr + result.stdout
    assert "GUID is malformed" in result.stderr


def test_unknown_flag_is_rejected_by_argparse():
    result = _run("--device-nam", "x")  # abbreviations are off, like the SDK example's
    assert result.returncode == 2


def test_external_mode_without_login_exits_2():
    env_free = {k: v for k, v in os.environ.items()
                if not k.startswith("BOSDYN_CLIENT_")}
    result = subprocess.run([sys.executable, "-m", "camera_service", "external", "127.0.0.1",
                             "--device-name", "synthetic", "--port", "0"],
                            capture_output=True, text=True, timeout=20, env=env_free)
    assert result.returncode == 2
    assert "BOSDYN_CLIENT_USERNAME" in result.stderr and "Traceback" not in result.stderr
