"""Faults in a loop: the robot down at start, 10 robot reboots, 10 camera failures and
recoveries, with the time each took printed (``pytest -s`` shows them).

The service runs in this process with the shipped back-off settings (keep-alive every
0.5 s so that the test is short); the robot is the simulator, the camera a synthetic one
switched off and on through its failure hook. Each wait is bounded.
"""

from __future__ import annotations

import statistics
import time

import pytest
from bosdyn.api import image_pb2
from camera_service.app.service import RetryTiming
from camera_service.robot.faults import FlapDamping, fault_name
from reliability_support import (
    SERVICE_NAME,
    RunningService,
    config_mapping,
    synthetic,
)

from devtools.polling import wait_for

ROUNDS = 10
REBOOT_DOWN_SECONDS = 0.5
START_DOWN_SECONDS = 3.0
RECOVERY_BOUND = 15.0  # seconds from the robot (or camera) being back to service restored

Resp = image_pb2.ImageResponse


def _registered(sim) -> bool:
    return any(entry.name == SERVICE_NAME for entry in sim.directory_entries())


def _fault_active(sim, camera: str) -> bool:
    return any(f.fault_id.fault_name == fault_name(camera) for f in sim.active_faults())


def _status(running: RunningService, camera: str) -> int:
    (response,) = running.get(image_pb2.ImageRequest(image_source_name=camera))
    return response.status


def _report(what: str, times) -> str:
    listed = ", ".join(f"{t:.2f}" for t in times)
    return (f"{what}: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
            f"[{listed}]")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_robot_down_at_start_then_reboots_then_camera_failures(robot_sim):
    lines = []
    # -- the robot is not up yet when the service starts --------------------------------
    robot_sim.refuse_connections(START_DOWN_SECONDS)
    robot_back_at = time.monotonic() + START_DOWN_SECONDS
    # each round's failure comes seconds after the last: a flap, whose fault a real service
    # holds (robot/test_faults.py); here every recovery is timed, so nothing is held
    no_damping = RetryTiming(fault_damping=FlapDamping(window=0.0))
    running = RunningService(config_mapping(robot_sim, [synthetic("cam"), synthetic("spare")]),
                             retry=no_damping)
    try:
        assert _status(running, "cam") == Resp.STATUS_OK  # serving while the robot is away
        wait_for(lambda: _registered(robot_sim), timeout=START_DOWN_SECONDS + RECOVERY_BOUND)
        lines.append(f"robot down {START_DOWN_SECONDS:g} s at start: registered "
                     f"{time.monotonic() - robot_back_at:.2f} s after the robot came up")

        # -- robot reboots ------------------------------------------------------------------
        reregister = []
        for _ in range(ROUNDS):
            wait_for(lambda: running.service.link.connected, timeout=RECOVERY_BOUND)
            before = robot_sim.state.registration(SERVICE_NAME)
            robot_sim.reboot(down_seconds=REBOOT_DOWN_SECONDS)
            rebooted_at = time.monotonic()
            # the rebooted robot forgot the service, which registered anew: a new
            # registration object (no transient "not registered" state is sampled)
            wait_for(lambda old=before: robot_sim.state.registration(SERVICE_NAME)
                     not in (None, old),
                     timeout=REBOOT_DOWN_SECONDS + RECOVERY_BOUND, interval=0.01)
            reregister.append(time.monotonic() - rebooted_at)
            assert _status(running, "cam") == Resp.STATUS_OK
        lines.append(_report(f"{ROUNDS} reboots (down {REBOOT_DOWN_SECONDS:g} s), reboot to "
                             "re-registered", reregister))

        # -- camera failures ----------------------------------------------------------------
        camera = running.source("cam")
        detect, recover = [], []
        for _ in range(ROUNDS):
            camera.stop_delivering()
            failed_at = time.monotonic()
            wait_for(lambda: _fault_active(robot_sim, "cam"), timeout=RECOVERY_BOUND)
            detect.append(time.monotonic() - failed_at)
            assert _status(running, "cam") == Resp.STATUS_IMAGE_DATA_ERROR
            assert _status(running, "spare") == Resp.STATUS_OK  # the other camera unharmed
            camera.resume()
            resumed_at = time.monotonic()
            wait_for(lambda: _status(running, "cam") == Resp.STATUS_OK,
                     timeout=RECOVERY_BOUND, interval=0.01)
            wait_for(lambda: not _fault_active(robot_sim, "cam"), timeout=RECOVERY_BOUND)
            recover.append(time.monotonic() - resumed_at)
        lines.append(_report(f"{ROUNDS} camera failures, failure to robot fault", detect))
        lines.append(_report(f"{ROUNDS} camera recoveries, camera back to images served and "
                             "fault cleared", recover))
        assert _registered(robot_sim)
    finally:
        running.stop()
    print("\nfault loop:\n  " + "\n  ".join(lines))
    assert not any(f.fault_id.service_name == SERVICE_NAME for f in robot_sim.active_faults())
