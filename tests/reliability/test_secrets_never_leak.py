"""Secrets: every error path run with a known secret, which must appear in no log line, no
error message and no response.

The service runs as a process with all its output captured, at debug level (``-v``) where
the SDK logs most, and at the default level. Paths: malformed credentials files, a payload the
robot does not know or has not authorized, a wrong secret, an unreachable robot, bad
configurations (file keys, flags, YAML syntax), a robot reboot that invalidates the service's
token. The tokens the simulator issues are recorded and checked the same way.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterable, List

import pytest
from bosdyn.api import image_pb2
from reliability_support import SERVICE_NAME, config_mapping, synthetic, wait_for

from bench.processes import ServiceProcess, free_port

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
