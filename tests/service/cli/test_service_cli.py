"""Command line: the SDK example's command lines, flags over config, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from camera_service.cli.main import load_config


def test_sdk_example_payload_command_line():
    config = load_config(["payload", "10.1.2.3", "--guid", "0a1b2c3d-1111", "--secret", "s3cr3t",
                          "--host-ip", "10.1.2.5", "--port", "21300", "--device-name",
                          "/dev/video0", "--device-name", "1", "--codec", "MJPG",
                          "--res-width", "1280", "--res-height", "720", "-v"])
    assert config.robot.mode == "payload" and config.robot.hostname == "10.1.2.3"
    assert (config.service.name, config.service.authority) == ("web-cam-service",
                                                               "robot-web-cam")
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
    (["--port", "99999", "--device-name", "synthetic"], "--port 99999: must be between"),
    (["--codec", "MJPEG", "--device-name", "0"], "--codec MJPEG: a FOURCC has"),
    (["--res-width", "5", "--device-name", "0"], "--res-width 5: must be between 16"),
    (["--jpeg-quality", "101", "--device-name", "0"], "--jpeg-quality 101: must be between"),
    (["--name", "bad name!"], "--name bad name!: must be letters"),
    (["--p", "1"], "--p: ambiguous abbreviation, could be --payload-credentials-file, --port"),
    (["10.0.0.1", "10.0.0.2"], "HOSTNAME: expected one robot address"),
    (["payload", "external"], "payload|external: give one mode word, got payload external"),
    (["--guid", "abc"], "guid and secret go together"),
    (["--robot-ca-cert", "/nonexistent/ca.pem"], "--robot-ca-cert /nonexistent/ca.pem: "),
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


def test_unknown_flag_is_rejected_in_one_line():
    result = _run("--camera", "x")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "--camera: unknown option; see spot-camera-service --help")
    assert result.stderr.count("\n") == 1  # no usage block


def test_a_misspelt_flag_gets_a_did_you_mean():
    result = _run("--devcie", "/dev/video0")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("--devcie: unknown option; did you mean --device?")
    assert result.stderr.count("\n") == 1


def test_the_usage_lists_every_documented_device_flag():
    usage = _run("--help").stdout
    assert "--device " in usage.replace("\n", " ") and "--device-name" in usage


def test_external_mode_without_login_exits_2():
    env_free = {k: v for k, v in os.environ.items()
                if not k.startswith("BOSDYN_CLIENT_")}
    result = subprocess.run([sys.executable, "-m", "camera_service", "external", "127.0.0.1",
                             "--device-name", "synthetic", "--port", "0"],
                            capture_output=True, text=True, timeout=20, env=env_free)
    assert result.returncode == 2
    assert "BOSDYN_CLIENT_USERNAME" in result.stderr and "Traceback" not in result.stderr


# -- the SDK examples' command lines (devices are given here; see test_example_command_lines
#    for the same lines run against the robot simulator) -------------------------------------
def _sources(config):
    return [(e.type, e.settings.name) for e in config.sources]


def test_compose_command_with_hostname_last():
    config = load_config(["payload", "--host-ip", "192.168.50.5", "--port", "50051", "--device",
                          "/dev/video0", "--payload-credentials-file",
                          "/opt/payload_credentials/payload_guid_and_secret", "192.168.50.3"])
    assert (config.robot.hostname, config.robot.host_ip, config.service.port) == (
        "192.168.50.3", "192.168.50.5", 50051)
    assert config.robot.payload_credentials_file == (
        "/opt/payload_credentials/payload_guid_and_secret")
    assert _sources(config) == [("v4l2", "video0")]


@pytest.mark.parametrize("argv", [
    "payload --host-ip localhost --port 50051 --guid G-1 --secret S3cr ROBOT",
    "--guid G-1 --secret S3cr --host-ip localhost --port 50051 ROBOT --device-name 0",
    "--payload-credentials-file F ROBOT --host-ip localhost --port 50051",
    "payload ROBOT --dev 0 --host localhost --po 50051 --gu G-1 --se S3cr",
    "payload --device-name /dev/video0 ROBOT --host-ip=localhost --port=50051 --guid G-1 "
    "--secret S3cr",
], ids=["docker-run-sdk5", "sdk2-readme", "tutorial", "abbreviations", "append-then-host"])
def test_hostname_and_options_in_any_order(argv):
    config = load_config(argv.split())
    assert config.robot.hostname == "ROBOT"
    assert (config.robot.host_ip, config.service.port) == ("localhost", 50051)


def test_mode_word_after_the_hostname_is_taken_too():
    config = load_config(["ROBOT", "external", "--device-name", "0"])
    assert (config.robot.mode, config.robot.hostname) == ("external", "ROBOT")


def test_device_list_nargs_star_and_repeats():
    config = load_config(["ROBOT", "--device-name", "0", "/dev/video2", "--device-name", "4"])
    assert _sources(config) == [("v4l2", "video0"), ("v4l2", "video2"), ("v4l2", "video4")]


def test_device_list_then_robot_address():
    config = load_config(["--device-name", "/dev/video0", "/dev/video1", "192.168.50.3"])
    assert config.robot.hostname == "192.168.50.3"
    assert _sources(config) == [("v4l2", "video0"), ("v4l2", "video1")]


def test_minus_one_sizes_mean_the_camera_default():
    config = load_config(["--device-name", "0", "--res-width", "-1", "--res-height", "-1"])
    settings = config.sources[0].settings
    assert (settings.width, settings.height) == (None, None)


def test_example_abbreviation_wins_over_our_own_option():
    config = load_config(["--device-name", "0", "--c", "MJPG"])  # --codec, not --config
    assert config.sources[0].settings.options["codec"] == "MJPG"


def test_device_kinds_from_device_name(tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"")
    config = load_config(["--device-name", str(clip), "http://cam:8081/stream.mjpg",
                          "rtsp://u:p@cam/live", "/dev/v4l/by-id/usb-Cam_1-video-index0"])
    assert _sources(config) == [("file", "clip.avi"), ("url", "stream.mjpg"),
                                ("url", "live"), ("v4l2", "usb-Cam_1-video-index0")]


@pytest.mark.parametrize(("extra", "expected"), [
    ([], ("web-cam-service", "robot-web-cam")),
    (["--name", "front-cams"], ("front-cams", "robot-web-cam")),
    (["--authority", "front-auth"], ("web-cam-service", "front-auth")),
])
def test_mode_word_takes_the_example_names(extra, expected):
    config = load_config(["payload", "ROBOT", *extra])
    assert (config.service.name, config.service.authority) == expected
    assert _sources(config) == [("v4l2", "video0")]  # the example's default device 0
    assert config.sources[0].settings.options == {"device": "auto"}


def test_robot_address_argument_is_the_sdk2_form_with_the_example_names():
    config = load_config(["--payload-credentials-file", "F", "ROBOT", "--port", "5000"])
    assert (config.service.name, config.service.authority) == (
        "web-cam-service", "robot-web-cam")
    assert _sources(config) == [("v4l2", "video0")]


def test_the_product_form_keeps_the_product_names():
    config = load_config(["--device-name", "0", "--port", "21230"])
    assert (config.service.name, config.service.authority) == (
        "camera-image-service", "camera-image-service")


def test_config_file_names_win_over_the_example_names(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("service: {name: my-cams}\nsources: [{name: a, type: synthetic}]\n")
    config = load_config(["payload", "ROBOT", "--config", str(path)])
    assert (config.service.name, config.service.authority) == ("my-cams", "robot-web-cam")
    assert _sources(config) == [("synthetic", "a")]
