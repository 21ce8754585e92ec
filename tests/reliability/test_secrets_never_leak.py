"""Secrets: every error path run with a known secret, which must appear in no log line, no
error message and no response.

The service runs as a process with all its output captured, at debug level (``-v``) where
the SDK logs most, and at the default level. Paths: malformed credentials files, a payload the
robot does not know or has not authorized, a wrong secret, an unreachable robot, bad
configurations (file keys, flags, YAML syntax), a robot reboot that invalidates the service's
token. The tokens the simulator issues are recorded and checked the same way.

Refused logins (payload secret, user password) are asked of the robot once, not every
second (account lockout). Camera URL passwords holding unencoded ``#/?@:`` - from
``--device-name`` or the config file, http and rtsp - reach no log line, robot fault,
GetImage message, ListImageSources answer, healthcheck output, viewer page or settings page
answer (config, status, cameras, a save round trip, which keeps the password in the file).
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterable, List

import pytest
import yaml
from bosdyn.api import image_pb2
from camera_service.robot.login import PasswordLogin
from camera_service.robot.sdk_robot import RobotTarget
from reliability_support import (
    SERVICE_NAME,
    config_mapping,
    routed_image_stub,
    synthetic,
)

from bench.processes import ServiceProcess, free_port
from devtools.polling import wait_for
from fake_cameras.ip_camera import FakeIPCamera
from viewer.__main__ import start_viewer

SECRET = f"s3cr3t-{secrets.token_hex(12)}"
WAIT = 20.0


def assert_clean(texts: Iterable[str], where: str, needles: Iterable[str] = (SECRET,)) -> None:
    """Fail if any needle occurs in ``texts``, naming the line without showing the needle
    (the frame is hidden from tracebacks, whose argument dumps would show it)."""
    __tracebackhide__ = True
    needles = [n for n in needles if n]
    for text in texts:
        for number, line in enumerate(text.splitlines(), 1):
            for needle in needles:
                if needle in line:
                    shown = line.replace(needle, "<SECRET>")
                    pytest.fail(f"secret leaked in {where}, line {number}: {shown[:300]}")


@pytest.fixture
def token_log(robot_sim) -> List[str]:
    """Every token the simulator issues from now on."""
    issued: List[str] = []
    authority = robot_sim.state.tokens
    original = authority.issue

    def recording(*args, **kwargs):
        token = original(*args, **kwargs)
        issued.append(token)
        return token

    authority.issue = recording
    yield issued
    authority.issue = original


def _credentials(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"creds-{uuid.uuid4().hex[:6]}"
    path.write_text(text)
    return path


def _run_until(mapping, needle: str, extra_args=(), env=None) -> ServiceProcess:
    """Start the service, wait for a log line containing ``needle``, stop it."""
    with ServiceProcess(mapping, extra_args, env=env) as service:
        service.wait_for_line(needle, WAIT)
        # error answers too: none may carry the secret
        for name in ("cam", "nosuchcamera"):
            response = service_get(service, name)
            assert_clean([repr(response.SerializeToString())], f"GetImage({name}) response")
        service.counters()
    assert_clean([service.log], "service log")
    assert "Traceback" not in service.log
    return service


def service_get(service: ServiceProcess, name: str) -> image_pb2.GetImageResponse:
    from bench.clients import DirectClient

    client = DirectClient(service.port, image_pb2.ImageRequest(image_source_name=name))
    try:
        return client.get()
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True], ids=["info", "debug"])
@pytest.mark.parametrize("content", [
    "{guid}\n{secret}\nextra line\n",
    "{secret}\n",
    "not a guid!\n{secret}\n",
    "{guid}\n{secret} with spaces\n",
], ids=["three-lines", "secret-only", "bad-guid", "whitespace"])
def test_malformed_credentials_file(robot_sim, tmp_path, content, verbose):
    path = _credentials(tmp_path, content.format(guid=uuid.uuid4(), secret=SECRET))
    mapping = config_mapping(robot_sim, [synthetic("cam")], payload_credentials_file=str(path))
    service = _run_until(mapping, "payload credentials file", ["-v"] if verbose else [])
    assert "malformed" in service.log or "whitespace" in service.log


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True], ids=["info", "debug"])
@pytest.mark.parametrize("case", ["unknown-payload", "not-authorized", "wrong-secret"])
def test_robot_refuses_the_payload(robot_sim, tmp_path, token_log, case, verbose):
    guid = str(uuid.uuid4())
    if case == "not-authorized":
        robot_sim.add_payload(guid, SECRET, authorized=False)
    elif case == "wrong-secret":
        guid = robot_sim.payload_guid
    path = _credentials(tmp_path, f"{guid}\n{SECRET}\n")
    mapping = config_mapping(robot_sim, [synthetic("cam")], payload_credentials_file=str(path))
    service = _run_until(mapping, "WARNING", ["-v"] if verbose else [])
    assert guid in service.log  # the GUID names the payload; the secret stays out
    assert_clean([service.log], "service log", token_log)


@pytest.mark.slow
def test_robot_unreachable_with_secret_on_the_command_line(tmp_path):
    guid = str(uuid.uuid4())
    mapping = {"robot": {"hostname": "127.0.0.1", "port": free_port(), "host_ip": "127.0.0.1",
                         "keepalive_seconds": 0.5},
               "sources": [synthetic("cam")]}
    service = _run_until(mapping, "unreachable", ["-v", "--guid", guid, "--secret", SECRET])
    assert guid in service.log or "unreachable" in service.log


@pytest.mark.slow
def test_token_refused_after_reboot_then_renewed(robot_sim, tmp_path, token_log):
    guid = str(uuid.uuid4())
    robot_sim.add_payload(guid, SECRET, authorized=True)
    path = _credentials(tmp_path, f"{guid}\n{SECRET}\n")
    mapping = config_mapping(robot_sim, [synthetic("cam")], payload_credentials_file=str(path))
    with ServiceProcess(mapping, ["-v"]) as service:
        robot_sim.wait_for_service(SERVICE_NAME, timeout=WAIT)
        issued_before = len(token_log)
        robot_sim.reboot(down_seconds=0.3, invalidate_tokens=True)
        wait_for(lambda: len(token_log) > issued_before, timeout=WAIT)
        robot_sim.wait_for_service(SERVICE_NAME, timeout=WAIT)
        response = service_get(service, "cam")
        assert response.status == image_pb2.ImageResponse.STATUS_OK
        assert_clean([repr(response.SerializeToString())], "GetImage response", token_log)
    assert len(token_log) >= 2
    assert_clean([service.log], "service log", [SECRET, *token_log])


BAD_CONFIGS = {
    "secret-without-guid": "robot:\n  secret: {secret}\n",
    "unknown-key-next-to-secret": "robot:\n  guid: abc-123\n  secret: {secret}\n  colour: red\n",
    "secret-of-wrong-type": "robot:\n  guid: abc-123\n  secret: [{secret}]\n",
    "yaml-syntax-error": "robot:\n  guid: abc-123\n  secret: '{secret}\n  port: [\n",
    "bad-guid-with-secret": "robot:\n  guid: 'not a guid!'\n  secret: {secret}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_configuration_exits_with_one_clean_line(tmp_path, name):
    config = tmp_path / "config.yaml"
    config.write_text(BAD_CONFIGS[name].format(secret=SECRET))
    result = subprocess.run(
        [sys.executable, "-m", "camera_service", "--config", str(config), "--port",
         str(free_port()), "--device-name", "synthetic", "--robot-port", str(free_port())],
        capture_output=True, text=True, timeout=60, env={**os.environ, "GRPC_VERBOSITY": "ERROR"})
    assert_clean([result.stdout, result.stderr], f"output for {name}")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, f"{len(errors)} error lines"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ["--guid", "not a guid!", "--secret", SECRET],
    ["--secret", SECRET],
    ["--guid", "abc-123", "--secret", f"{SECRET} x"],
], ids=["bad-guid", "secret-alone", "secret-with-space"])
def test_bad_credential_flags_exit_cleanly(args):
    result = subprocess.run(
        [sys.executable, "-m", "camera_service", "--port", str(free_port()), "--device-name",
         "synthetic", "--robot-port", str(free_port()), "127.0.0.1", *args],
        capture_output=True, text=True, timeout=60)
    assert_clean([result.stdout, result.stderr], "output")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


# -- refused logins back off (account lockout) --------------------------------------------
@pytest.fixture
def login_attempts(robot_sim) -> List[str]:
    """Every login the simulator is asked for from now on: the GUID or user name."""
    attempts: List[str] = []
    state = robot_sim.state
    payload, check_login = state.payload, state.check_login

    def recording_payload(guid, secret):
        attempts.append(guid)
        return payload(guid, secret)

    def recording_login(username, password):
        attempts.append(username)
        return check_login(username, password)

    state.payload, state.check_login = recording_payload, recording_login
    yield attempts
    state.payload, state.check_login = payload, check_login


BACKOFF_WATCH = 4.0  # seconds watched after a refusal: the old service retried every second


@pytest.mark.slow
def test_refused_payload_secret_is_not_retried_quickly(robot_sim, tmp_path, login_attempts):
    guid = robot_sim.payload_guid
    path = _credentials(tmp_path, f"{guid}\n{SECRET}\n")
    absent = {"name": "gone", "type": "url", "url": f"http://127.0.0.1:{free_port()}/x"}
    mapping = config_mapping(robot_sim, [synthetic("cam"), absent],
                             payload_credentials_file=str(path))
    with ServiceProcess(mapping, ["-v"]) as service:  # the absent camera's fault wakes the link
        line = service.wait_for_line("next attempt in 15 s", WAIT)
        threading.Event().wait(BACKOFF_WATCH)
        assert login_attempts.count(guid) == 1, login_attempts
        assert "does not know payload" in line and "account lockout" in line
        # fixed credentials were never refused: tried at once, not after the back-off
        path.write_text(robot_sim.payload_credentials_file.read_text())
        robot_sim.wait_for_service(SERVICE_NAME, timeout=5)
    warnings = [x for x in service.lines if "WARNING" in x and "does not know payload" in x]
    assert len(warnings) == 1
    assert_clean([service.log], "service log")


@pytest.mark.slow
def test_refused_user_password_is_not_retried_quickly(robot_sim, login_attempts):
    mapping = config_mapping(robot_sim, [synthetic("cam")], mode="external")
    env = {"BOSDYN_CLIENT_USERNAME": robot_sim.username, "BOSDYN_CLIENT_PASSWORD": SECRET}
    with ServiceProcess(mapping, ["-v"], env=env) as service:
        service.wait_for_line("next attempt in 15 s", WAIT)
        threading.Event().wait(BACKOFF_WATCH)
        assert login_attempts.count(robot_sim.username) == 1, login_attempts
    assert len([x for x in service.lines if "refused the login of user" in x]) == 1
    assert_clean([service.log], "service log")


# -- credentials inside camera URLs --------------------------------------------------------
# Unencoded # / ? @ : in the password: every piece long enough to spot if it leaked alone.
URL_PASSWORD = "Alpha7#Bravo7/Charlie7?Delta7@Echo7:Foxtrot7"
URL_NEEDLES = [URL_PASSWORD, *[piece for piece in
                               ["Alpha7", "Bravo7", "Charlie7", "Delta7", "Echo7", "Foxtrot7"]]]


def _url_cameras(ip_camera: FakeIPCamera) -> Dict[str, str]:
    """Source name -> URL: a working camera, a wrong password, an unreachable RTSP camera."""
    good = ip_camera.url  # http://camuser:<URL_PASSWORD>@127.0.0.1:P/stream.mjpg, unencoded
    wrong = good.replace(URL_PASSWORD, URL_PASSWORD[::-1]).replace("stream.mjpg", "video")
    rtsp = f"rtsp://camuser:{URL_PASSWORD}@127.0.0.1:{free_port()}/live"
    return {"stream.mjpg": good, "video": wrong, "live": rtsp}


def _check_every_output(robot_sim, service: ServiceProcess, name: str, needles) -> None:
    """Log, robot faults, GetImage messages and ListImageSources through the robot, the
    healthcheck and the viewer: none may hold a needle."""
    robot_sim.wait_for_service(name, timeout=WAIT)
    wait_for(lambda: len(robot_sim.active_faults()) >= 2, timeout=WAIT)  # wrong pw, rtsp
    faults = robot_sim.active_faults()
    assert_clean([repr(f) for f in faults], "robot faults", needles)
    assert any("***@" in f.error_message for f in faults)
    _, stub = routed_image_stub(robot_sim, name)
    listed = stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=10)
    assert sorted(s.name for s in listed.image_sources) == ["live", "stream.mjpg", "video"]
    assert_clean([repr(listed.SerializeToString())], "ListImageSources", needles)
    for source in ("stream.mjpg", "video", "live"):
        reply = stub.GetImage(image_pb2.GetImageRequest(image_requests=[image_pb2.ImageRequest(
            image_source_name=source, image_format=image_pb2.Image.FORMAT_JPEG,
            quality_percent=75)]), timeout=10)
        assert_clean([repr(reply.SerializeToString())], f"GetImage({source})", needles)
        status = reply.image_responses[0].status
        assert (status == image_pb2.ImageResponse.STATUS_OK) == (source == "stream.mjpg")
    health = subprocess.run([sys.executable, "-m", "camera_service.cli.healthcheck", "--port",
                             str(service.port)], capture_output=True, text=True, timeout=30)
    assert health.returncode == 0
    assert_clean([health.stdout, health.stderr], "healthcheck", needles)
    viewer = start_viewer(RobotTarget(robot_sim.address, robot_sim.port,
                                      str(robot_sim.ca_cert)),
                          PasswordLogin(robot_sim.username, robot_sim.password),
                          ("127.0.0.1", 0))
    try:
        for path in ("api/sources", f"api/frame?service={name}&source=live",
                     f"api/frame?service={name}&source=video", "api/status"):
            assert_clean([_viewer_get(viewer.url + path)], f"viewer {path}", needles)
    finally:
        viewer.stop()
    service.stop()
    assert_clean([service.log], "service log", needles)
    assert "Traceback" not in service.log


def _viewer_get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            body = answer.read()
    except urllib.error.HTTPError as err:
        body = err.read()
    return body.decode("latin-1")


@pytest.fixture
def ip_camera():
    with FakeIPCamera(width=160, height=120, fps=10, quality=75, username="camuser",
                      password=URL_PASSWORD) as camera:
        yield camera


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True], ids=["info", "debug"])
def test_url_credentials_from_device_name_never_leak(robot_sim, ip_camera, verbose):
    cameras = _url_cameras(ip_camera)
    args = ["--device-name", *cameras.values()] + (["-v"] if verbose else [])
    mapping = config_mapping(robot_sim, [])
    with ServiceProcess(mapping, args) as service:
        _check_every_output(robot_sim, service, SERVICE_NAME, URL_NEEDLES)


@pytest.mark.slow
def test_url_credentials_from_the_config_file_never_leak(robot_sim, ip_camera):
    sources = [{"name": name, "type": "url", "url": url, "timeout": 1}
               for name, url in _url_cameras(ip_camera).items()]
    mapping = config_mapping(robot_sim, sources)
    mapping["settings"] = {"port": free_port(), "bind": "127.0.0.1"}
    with ServiceProcess(mapping, ["-v"]) as service:
        _check_settings_page(robot_sim, service, mapping["settings"]["port"], sources)
        _check_every_output(robot_sim, service, SERVICE_NAME, URL_NEEDLES)


def _check_settings_page(robot_sim, service: ServiceProcess, port: int, sources) -> None:
    """Log in to the settings page with the robot's user; every answer is clean, and saving
    the list as the page shows it keeps the URL passwords in the file."""
    context = ssl._create_unverified_context()  # the page's self-signed certificate

    def call(method: str, path: str, body=None, headers=None):
        request = urllib.request.Request(
            f"https://127.0.0.1:{port}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=20, context=context) as answer:
                return answer.status, answer.headers, answer.read().decode("latin-1")
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read().decode("latin-1")

    wait_for(lambda: "settings page on https://" in "".join(service.lines), timeout=WAIT)
    status, headers, body = call("POST", "/api/login", {"username": robot_sim.username,
                                                       "password": robot_sim.password})
    assert status == 200, body
    session = {"Cookie": headers["Set-Cookie"].split(";")[0],
               "X-CSRF-Token": json.loads(body)["csrf"]}
    for path in ("/api/config", "/api/status", "/api/cameras"):
        status, _, body = call("GET", path, headers=session)
        assert status == 200
        assert_clean([body], f"settings page {path}", URL_NEEDLES)
    shown = json.loads(call("GET", "/api/config", headers=session)[2])["sources"]
    status, _, body = call("POST", "/api/config", {"sources": shown}, session)
    assert status == 200, body
    assert_clean([body], "settings page save answer", URL_NEEDLES)
    saved = yaml.safe_load(service.config_path.read_text())["sources"]
    kept = [entry["url"] for entry in saved] == [entry["url"] for entry in sources]
    assert kept, "saving the page's list lost a URL password"  # no diff: it would show them


@pytest.mark.parametrize("entry", [
    {"name": "cam", "type": "v4l2", "device": f"rtsp://u:{URL_PASSWORD}@cam/x"},
    {"name": "cam", "type": "url", "url": f"rtsp://u:{URL_PASSWORD}@cam:notaport/x"},
    {"name": "cam", "type": "url", "url": f"rtsp://u:{URL_PASSWORD}@cam/x", "colour": 1},
], ids=["url-as-v4l2-device", "bad-port", "unknown-key"])
def test_config_errors_about_a_url_never_show_its_password(tmp_path, entry):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": [entry]}))
    result = subprocess.run(
        [sys.executable, "-m", "camera_service", "--config", str(config), "--port",
         str(free_port()), "--robot-port", str(free_port())],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert_clean([result.stdout, result.stderr], "output", URL_NEEDLES)
    assert len([x for x in result.stderr.splitlines() if "ERROR" in x]) == 1
