"""The robot link against the robot simulator with stalled answers: every call has a
deadline, a stalled time sync never starves the keep-alive, a stop during a stalled round
ends within the 5 s budget and leaves nothing registered or faulted on the robot."""

from __future__ import annotations

import logging
import time

from camera_service.robot.faults import fault_name
from service_test_helpers import SERVICE_NAME, service_config, wait_for

from robot_sim.state import LIVENESS_FAULT_NAME

TIME_SYNC = "bosdyn.api.TimeSyncService"
KEEPALIVE = 1.0
LIVENESS = 3 * KEEPALIVE  # what the service registers as its liveness timeout
STALL = 5.0  # each time-sync answer takes longer than the liveness timeout
STOP_BUDGET = 5.0  # SIGTERM to exit, as the extension's compose file allows


def _synthetic(name="cam"):
    return {"name": name, "type": "synthetic", "width": 64, "height": 48, "fps": 10}


def _ours(sim):
    return [f for f in sim.active_faults() if f.fault_id.service_name == SERVICE_NAME]


def _liveness_faults(sim):
    return [f for f in sim.active_faults() if f.fault_id.fault_name == LIVENESS_FAULT_NAME]


def _logged(caplog, needle):
    return [r for r in caplog.records if needle in r.getMessage()]


def test_stalled_time_sync_never_starves_the_keep_alive(robot_sim, run_service, caplog):
    caplog.set_level(logging.INFO, logger="camera_service")
    service = run_service(service_config(robot_sim, [_synthetic()],
                                         keepalive_seconds=KEEPALIVE))
    robot_sim.wait_for_service(SERVICE_NAME)
    wait_for(lambda: service.clock.established and service.link.connected)
    assert service.registration.endpoint.liveness_timeout == LIVENESS
    robot_sim.set_latency(STALL, service=TIME_SYNC)
    stalled_at = time.monotonic()
    wait_for(lambda: _logged(caplog, "time sync with the robot failing"), timeout=30)
    # Watch two liveness timeouts' worth of stalled rounds: never a liveness fault.
    wait_for(lambda: _liveness_faults(robot_sim) or
             time.monotonic() > stalled_at + 2 * LIVENESS, timeout=60, interval=0.05)
    registration = robot_sim.state.registration(SERVICE_NAME)
    print(f"\nlongest keep-alive silence while time sync stalled: "
          f"{registration.longest_silence:.2f} s (liveness timeout {LIVENESS:g} s)")
    assert not _liveness_faults(robot_sim)
    assert robot_sim.state.liveness_faults_raised == 0
    assert registration.longest_silence < LIVENESS
    assert service.link.connected and service.clock.established  # the estimate is kept
    assert len(_logged(caplog, "time sync with the robot failing")) == 1  # once, then quiet
    robot_sim.set_latency(0, service=TIME_SYNC)
    wait_for(lambda: _logged(caplog, "time sync with the robot working again"), timeout=30)


def test_stop_during_a_stalled_round_ends_in_time_and_leaves_nothing(robot_sim, run_service):
    config = service_config(robot_sim, [_synthetic(), _synthetic("dead")],
                            keepalive_seconds=KEEPALIVE)
    service = run_service(config, failing=True)
    robot_sim.wait_for_service(SERVICE_NAME)
    service.sources[1].stop_delivering()
    wait_for(lambda: [f for f in _ours(robot_sim)
                      if f.fault_id.fault_name == fault_name("dead")])
    robot_sim.set_latency(STALL, service=TIME_SYNC)
    wait_for(lambda: robot_sim.calls_delayed > 0, timeout=30)  # a time sync is stalled now
    started = time.monotonic()
    service.stop()
    elapsed = time.monotonic() - started
    print(f"\nstop during a stalled time-sync round: {elapsed:.2f} s")
    assert elapsed < STOP_BUDGET
    assert not service.link.running  # nothing can register or raise a fault any more
    assert all(e.name != SERVICE_NAME for e in robot_sim.directory_entries())
    assert _ours(robot_sim) == []
    assert robot_sim.state.liveness_faults_raised == 0


def test_faults_are_raised_again_after_every_republish(robot_sim, run_service):
    """Defect 4 of issue 23: republishing the source list (live apply) unregisters the
    service, which drops its faults on the robot; they were never raised again while the
    cameras stayed broken."""
    config = service_config(robot_sim, [_synthetic(), _synthetic("dead")],
                            keepalive_seconds=KEEPALIVE)
    service = run_service(config, failing=True)
    robot_sim.wait_for_service(SERVICE_NAME)
    service.sources[1].stop_delivering()
    dead = lambda: [f for f in _ours(robot_sim)  # noqa: E731
                    if f.fault_id.fault_name == fault_name("dead")]
    wait_for(dead, what="the broken camera's fault")
    for republished in (2, 3):
        service.link.republish()
        wait_for(lambda n=republished: service.registration.registrations >= n, timeout=30,
                 what="the source list republished")
        # the fresh entry must carry the fault again (the camera is still broken)
        wait_for(dead, timeout=15, what=f"the fault after republish {republished - 1}")
        assert len(dead()) == 1
