"""The Spot SDK's own plugin tester (``tests/third_party/spot_sdk_tester``, unmodified) passes
against a plugin through the simulator, run as the SDK documents it: ``plugin_tester.py
--service-name NAME ROBOT`` with the robot's user credentials in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from robot_sim_tiny_plugin import BLOB, SERVICE_NAME, PluginServer

from robot_sim.daq_helpers import read_zips, run_plugin_tester

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
    run_plugin_tester(robot_sim, TESTER_DIR / "plugin_tester.py", SERVICE_NAME, downloads,
                      cwd=tmp_path)
    files = read_zips((downloads / "REST").glob("*.zip"))
    blobs = [content for name, content in files.items() if name.endswith(".bin")]
    # tiny-blob, live-blob, then both at once; the cancelled actions stored nothing
    assert blobs == [BLOB] * 4
