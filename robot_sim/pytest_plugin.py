"""Pytest plugin: fixtures ``robot_sim`` (in-process ``RobotSimulator``) and
``robot_sim_process`` (``RobotSimulatorProcess``, the same API in a child process).

Enable with ``pytest_plugins = ["robot_sim.pytest_plugin"]`` in the top conftest.py. The
simulator serves on a free loopback port with its state (CA, credentials, robot.json) in the
test's tmp_path, and is stopped after the test.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from robot_sim.process import RobotSimulatorProcess
from robot_sim.simulator import RobotSimulator

# Simulated reboots make grpc core log every dropped connection at INFO; keep test output to
# errors unless the user asked for more.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@pytest.fixture
def robot_sim(tmp_path) -> Iterator[RobotSimulator]:
    """A started ``RobotSimulator``; see ``robot_sim.simulator.RobotSimulator``."""
    with RobotSimulator(state_dir=tmp_path / "robot_sim") as simulator:
        yield simulator


@pytest.fixture
def robot_sim_process(tmp_path) -> Iterator[RobotSimulatorProcess]:
    """A started ``RobotSimulatorProcess`` (log in ``state_dir/robot_sim.log``)."""
    with RobotSimulatorProcess(state_dir=tmp_path / "robot_sim") as simulator:
        yield simulator
