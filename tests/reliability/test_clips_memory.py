"""Clips of four cameras with pre-roll inside the extension's 512 MiB memory limit.

The service runs as its own process in a 512 MiB memory cgroup (without root: its peak RSS
is sampled and the budget configured), four raw 720p cameras keep a pre-roll ring each (more
than the ring share allows: the service says so in one line naming the limit and the
setting, and keeps less), and all four record a clip at once through the robot simulator.
The process never goes past the limit and every clip completes.
"""

from __future__ import annotations

import contextlib

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from memory_cgroup import MemoryCgroup, RssSampler
from reliability_support import config_mapping, synthetic

from bench.processes import ServiceProcess
from robot_sim import RobotSimulator
from robot_sim.daq_helpers import acquire, data_captures

MIB = 1024 * 1024
LIMIT = 512 * MIB
NAMES = [f"cam{i}" for i in range(4)]


@pytest.mark.slow
def test_four_cameras_with_pre_roll_stay_inside_512_mib(tmp_path):
    use_cgroup = MemoryCgroup.available()
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(RobotSimulator(state_dir=tmp_path / "robot"))
        sources = [{**synthetic(name, 1280, 720, fps=15, native_jpeg=False),
                    "clips": {"enabled": True, "pre_roll_s": 2}} for name in NAMES]
        mapping = config_mapping(sim, sources)
        if not use_cgroup:
            mapping["service"]["memory_limit_mib"] = LIMIT // MIB
        process = ServiceProcess(mapping)
        cgroup = MemoryCgroup(LIMIT) if use_cgroup else None
        if cgroup is not None:
            stack.callback(cgroup.remove)
            procs = cgroup.path / "cgroup.procs"
            process.command = ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh",
                               *process.command]
        process.start(timeout=60)
        stack.callback(process.stop)
        sampler = RssSampler(process.process.pid)
        stack.callback(sampler.stop)
        sim.wait_for_service("camera-image-service-clips", timeout=30)
        # every ring fills up to its share: one line per camera, naming limit and setting
        for name in NAMES:
            line = process.wait_for_line(f"clips of camera '{name}'", timeout=60)
            assert "memory limit (512 MiB" in line
            assert f"sources.{name}.clips.pre_roll_s" in line
        robot = sim.sdk_robot("clips-memory")
        robot.time_sync.wait_for_sync(timeout_sec=5)
        status = acquire(robot, data_captures(*(f"{n}-clip" for n in NAMES), duration_s=5,
                                              pre_roll_s=2.0), "Four", "clips-memory",
                         timeout=60)
        assert status.status == daq.GetStatusResponse.STATUS_COMPLETE, status
        assert process.process.poll() is None, "the service died"
        peak = cgroup.peak() if cgroup is not None else None
        print(f"\nclips of 4 raw 720p cameras: cgroup peak {peak and peak / MIB:.0f} MiB, "
              f"RSS peak {sampler.peak / MIB:.0f} MiB (limit 512 MiB)")
        if cgroup is not None:
            assert cgroup.oom_kills() == 0
            assert peak < LIMIT
        assert sampler.peak < LIMIT
