"""The Spot SDK's own plugin tester (``tests/third_party/spot_sdk_tester``, unmodified) passes
against a plugin through the simulator, run as the SDK documents it: ``plugin_tester.py
--service-name NAME ROBOT`` with the robot's user credentials in the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from robot_sim_tiny_plugin import BLOB, SERVICE_NAME, PluginServer

from robot_sim.daq_helpers import read_zips

TESTER_DIR = Path(__file__).resolve().parents[1] / "third_party" / "spot_sdk_tester"


@pytest.fixture
def plugin_for_the_tester(robot_sim):
    robot = robot_sim.sdk_robot("tiny-plugin")
    # every capability completes on its own; the tester's "cancel ..." actions hold until
    # cancelled (a capture already finished cannot be cancelled)
    server = PluginServer(robot, hold_cancel_checks=True,
                          capabilities=["tiny-blob", "live-blob"])
    yield server
    server.stop()
    robot.stop_time_sync()


@pytest.mark.slow
def test_sdk_plugin_tester_passes(robot_sim, plugin_for_the_tester, tmp_path):
    downloads = tmp_path / "downloads"
    result = subprocess.run(
        [sys.executable, "-m", "robot_sim", "exec", "--state-dir", str(robot_sim.state_dir),
         "--", sys.executable, str(TESTER_DIR / "plugin_tester.py"),
         "--service-name", SERVICE_NAME, "--destination-folder", str(downloads),
         robot_sim.address],
        capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = result.stdout + result.stderr
    print(output)  # the tester's report, shown with -s or on failure
    assert result.returncode == 0, output
    assert f"All tests passed for plugin service {SERVICE_NAME}" in output
    assert "ERROR" not in output
    files = read_zips((downloads / "REST").glob("*.zip"))
    blobs = [content for name, content in files.items() if name.endswith(".bin")]
    # tiny-blob, live-blob, then both at once; the cancelled actions stored nothing
    assert blobs == [BLOB] * 4
