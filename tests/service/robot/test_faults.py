"""Fault reporting against the robot simulator's real fault service: a flapping camera's
fault is damped (held while it flaps, cleared once it has delivered long enough), a camera
that fails once is raised and cleared at once."""

from __future__ import annotations

from typing import List

import pytest
from bosdyn.client.fault import FaultClient
from camera_service.capture.camera_state import CameraState
from camera_service.robot.faults import FaultReporter, FlapDamping, fault_name
from camera_service.robot.login import read_payload_login
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.robot.session import RobotSession

SERVICE = "flap-test-service"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cameras:
    """The running cameras as the reporter reads them."""

    def __init__(self, *names: str) -> None:
        self.by_name = {name: CameraState(name) for name in names}

    def states(self) -> List[CameraState]:
        return list(self.by_name.values())


@pytest.fixture
def robot(robot_sim):
    session = RobotSession(RobotTarget(robot_sim.address, robot_sim.port,
                                       str(robot_sim.ca_cert)),
                           lambda: read_payload_login(str(robot_sim.payload_credentials_file)))
    session.authenticate()
    return robot_sim, session.client(FaultClient)


def _raised(sim) -> List[str]:
    return [f.fault_id.fault_name for f in sim.active_faults()
            if f.fault_id.service_name == SERVICE]


def _flap(cameras: Cameras, reporter: FaultReporter, client, clock: Clock, seconds: float,
          sim, seen: List[List[str]]) -> None:
    """One flap: the camera fails, syncs, is back, syncs; ``seconds`` pass in all."""
    state = cameras.by_name["front"]
    state.failed("stream from camera ended")
    reporter.sync(client, 5.0)
    seen.append(_raised(sim))
    clock.now += seconds / 2
    state.delivered(clock.now)
    reporter.sync(client, 5.0)
    seen.append(_raised(sim))
    clock.now += seconds / 2


def test_a_camera_failing_once_is_raised_and_cleared_at_once(robot):
    sim, client = robot
    cameras, clock = Cameras("front"), Clock()
    reporter = FaultReporter(SERVICE, cameras, clock=clock)
    seen: List[List[str]] = []
    _flap(cameras, reporter, client, clock, 2.0, sim, seen)
    assert seen == [[fault_name("front")], []]
    assert reporter.next_sync_in() is None


def test_a_flapping_camera_shows_one_steady_fault_then_clears(robot):
    """Flapping every second for a minute was ~58 fault changes on the robot."""
    sim, client = robot
    cameras, clock = Cameras("front", "back"), Clock()
    damping = FlapDamping(window=60.0, first_hold=5.0, max_hold=60.0)
    reporter = FaultReporter(SERVICE, cameras, damping=damping, clock=clock)
    seen: List[List[str]] = []
    for _ in range(30):
        _flap(cameras, reporter, client, clock, 1.0, sim, seen)
    changes = sum(1 for before, after in zip([[], *seen], seen) if before != after)
    assert changes == 3  # raised, cleared (the first failure), raised again, then held
    assert seen[-1] == [fault_name("front")]
    # back for good: held for the hold it earned, then cleared, and the link is told when
    hold = reporter.next_sync_in()
    assert hold is not None and 0 < hold <= damping.max_hold
    clock.now += hold - 0.5
    reporter.sync(client, 5.0)
    assert _raised(sim) == [fault_name("front")]
    clock.now += 0.5
    reporter.sync(client, 5.0)
    assert _raised(sim) == []
    assert reporter.next_sync_in() is None


def test_a_removed_flapping_camera_is_cleared_at_once(robot):
    sim, client = robot
    cameras, clock = Cameras("front"), Clock()
    reporter = FaultReporter(SERVICE, cameras, clock=clock)
    seen: List[List[str]] = []
    for _ in range(3):
        _flap(cameras, reporter, client, clock, 1.0, sim, seen)
    assert _raised(sim) == [fault_name("front")]
    del cameras.by_name["front"]  # removed from the config
    reporter.sync(client, 5.0)
    assert _raised(sim) == []
