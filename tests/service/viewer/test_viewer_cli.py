"""``python -m viewer``: one-line errors for bad arguments, and a run against
the simulator with credentials from the environment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from devtools.polling import wait_for
from robot_sim import RobotSimulator

VIEWER = [sys.executable, "-m", "viewer"]


def run_viewer(args, env=None, timeout=30):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOSDYN_CLIENT_")}
    environment.update(env or {})
    return subprocess.run(VIEWER + args, capture_output=True, text=True, env=environment,
                          timeout=timeout)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--hostname", "127.0.0.1"], "no robot credentials: pass --username and --password"),
        (["--hostname", "127.0.0.1", "--username", "u", "--password", "p", "--robot-ca-cert",
          "/nonexistent/ca.pem"], "--robot-ca-cert /nonexistent/ca.pem is not a readable file"),
        (["--hostname", "127.0.0.1", "--username", "u", "--password", "p", "--listen", "8080"],
         "--listen '8080' is not HOST:PORT"),
        (["--hostname", "127.0.0.1", "--payload-credentials-file", "/nonexistent/creds"],
         "payload credentials file /nonexistent/creds does not exist"),
        (["--hots", "127.0.0.1"], "--hots: unknown option; did you mean --hostname?"),
        (["--username", "u"], "--hostname: required"),
        (["--hostname", "h", "--robot-port", "x"], "--robot-port: invalid int value: 'x'"),
    ],
)
def test_bad_arguments_end_with_one_line(args, expected):
    result = run_viewer(args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("viewer: error: ")
    assert expected in lines[0]


def _connected(url):
    """Whether the viewer at ``url`` reports itself logged in; asks for the source list
    (which logs in again after a failed attempt) when it does not."""
    with urllib.request.urlopen(url + "api/status", timeout=30) as answer:
        if json.load(answer)["connected"] is True:
            return True
    # a 503 while the robot is not reached: asked again on the next poll
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url + "api/sources", timeout=30).close()
    return False


def test_runs_with_env_credentials_and_stops_on_sigint(tmp_path):
    with RobotSimulator(state_dir=tmp_path / "robot") as sim:
        environment = dict(os.environ, BOSDYN_CLIENT_USERNAME=sim.username,
                           BOSDYN_CLIENT_PASSWORD=sim.password)
        viewer = subprocess.Popen(
            [*VIEWER, "--hostname", sim.address, "--robot-port", str(sim.port),
             "--robot-ca-cert", str(sim.ca_cert), "--listen", "127.0.0.1:0", "-v"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        try:
            first = viewer.stdout.readline()
            match = re.match(r"^viewer: open (http://\S+) \(robot .*, user '", first)
            assert match, first
            # logged in at the start; a login that timed out on a loaded machine is retried
            # by the next robot call (the source list), so wait for that, not for a moment
            wait_for(lambda: _connected(match.group(1)), timeout=60, what="viewer logged in")
            viewer.send_signal(signal.SIGINT)
            out, err = viewer.communicate(timeout=60)
        finally:
            if viewer.poll() is None:
                viewer.kill()
                viewer.communicate()
        assert viewer.returncode == 0
        assert sim.password not in first + out + err
        assert "Traceback" not in err
