"""Does recording a clip disturb the tablet? ``python -m bench.clips``.

The service as shipped reads the fake IP camera (its own process, 1280x720 at 30 frames/s,
JPEG quality 90) with clips enabled (2 s pre-roll ring) and is registered with a robot
simulator process. The tablet workload of ``bench.tablet`` (2 clients x 30 GetImage/s with
the SDK's default request) runs in windows of ``--seconds``, alternating: no clip, then
during a clip (an AcquireData of ``cam-clip`` through the simulator, as Autowalk sends it,
lasting past the window). Figures per window kind, median of ``--repeats``: the service's CPU
(ms per wall second, every thread), the camera frames reaching the clients per second, p99
round trip; "noise" is the spread (max - min) of the no-clip windows. Then one clip as the
issue's "done when" asks (``duration_s`` 5, ``pre_roll_s`` 2) is downloaded with the SDK's
REST helper: its frame count against 7 s at the camera's 30 frames/s (+- 1 frame), the first
frame's distance from the action time minus 2 s, and whether its times increase.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, List

from bosdyn.client.data_acquisition import DataAcquisitionClient

from bench.configs import SERVICE_MODULE, service_config
from bench.processes import FakeCameraProcess, ServiceProcess
from bench.tablet import (
    CAMERA_QUALITY,
    FPS,
    SIZE,
    SOURCE_NAME,
    TABLET_CLIENTS,
    TABLET_RATE,
    LoadRun,
    measure_load,
)
from robot_sim import RobotSimulatorProcess
from robot_sim.daq_helpers import acquire, data_captures, download_group, wait_done

NAME = "bench-clips"
KINDS = ("no clip", "during a clip")


def run(sim, seconds: float, repeats: int) -> Dict[str, List[LoadRun]]:
    """The tablet windows of each kind (see the module doc)."""
    runs: Dict[str, List[LoadRun]] = {kind: [] for kind in KINDS}
    with ExitStack() as stack:
        camera = stack.enter_context(FakeCameraProcess(*SIZE, FPS, CAMERA_QUALITY))
        source = {"name": SOURCE_NAME, "type": "url", "url": camera.url,
                  "clips": {"enabled": True, "pre_roll_s": 2}}
        service = stack.enter_context(ServiceProcess(service_config(sim, NAME, source),
                                                     module=SERVICE_MODULE))
        sim.wait_for_service(NAME + "-clips", timeout=30)
        robot = sim.sdk_robot("bench-clips")
        robot.time_sync.wait_for_sync(timeout_sec=5)
        client = robot.ensure_client(DataAcquisitionClient.default_service_name)
        time.sleep(3.0)  # the pre-roll ring fills, capture settles
        for repeat in range(repeats):
            for kind in KINDS if repeat % 2 == 0 else KINDS[::-1]:
                request_id = None
                if kind == "during a clip":
                    request_id = client.acquire_data(
                        data_captures(f"{SOURCE_NAME}-clip", duration_s=int(seconds) + 2),
                        f"bench {repeat}", "bench-clips")
                    time.sleep(0.5)  # recording under way
                result = measure_load(service, service.port, TABLET_CLIENTS, seconds,
                                      TABLET_RATE)
                runs[kind].append(result)
                print(f"  {kind}: {result.cpu_ms_per_s:.0f} CPU ms/s, "
                      f"{result.union_fps:.1f} frames/s, p99 {result.p99_ms:.1f} ms",
                      flush=True)
                if request_id is not None:
                    status = wait_done(robot, request_id, timeout=seconds + 60)
                    print(f"    clip: {status.status} ({len(status.data_saved)} pieces stored)",
                          flush=True)
        print("  " + clip_figures(sim, robot, Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="bench-clip-dl-")))), flush=True)
    return runs


def clip_figures(sim, robot, folder: Path) -> str:
    """One 5 s clip with 2 s of pre-roll, downloaded: frames, first-frame offset, order."""
    group = "bench-clips-7s"
    acquire(robot, data_captures(f"{SOURCE_NAME}-clip", duration_s=5, pre_roll_s=2.0),
            "seven seconds", group)
    files = download_group(sim, robot, group, folder)
    (metadata,) = [json.loads(v) for k, v in files.items()
                   if k.endswith(f"seven seconds {SOURCE_NAME}-clip metadata.json")]
    times = [f["robot_time"] for f in metadata["frames"]]
    offset_ms = (times[0] - (metadata["action_robot_time"] - 2.0)) * 1000
    return (f"5 s clip + 2 s pre-roll: {len(times)} frames (7 s at {FPS} frames/s = "
            f"{7 * FPS} +- 1), first frame {offset_ms:.1f} ms after action - 2 s (one "
            f"period: {1000 / FPS:.1f} ms), times increasing: "
            f"{all(b > a for a, b in zip(times, times[1:]))}")


def report(runs: Dict[str, List[LoadRun]]) -> str:
    lines = ["| window | CPU ms/s | frames/s to clients | p99 ms |", "|---|---|---|---|"]
    for kind, results in runs.items():
        cpu = [r.cpu_ms_per_s for r in results]
        fps = [r.union_fps for r in results]
        lines.append(f"| {kind} | {statistics.median(cpu):.0f} (min {min(cpu):.0f}, max "
                     f"{max(cpu):.0f}) | {statistics.median(fps):.1f} (min {min(fps):.1f}) | "
                     f"{statistics.median(r.p99_ms for r in results):.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clips",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one window")
    parser.add_argument("--repeats", type=int, default=4, help="windows of each kind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-clips-") as state, \
            RobotSimulatorProcess(state_dir=Path(state),
                                  extra_args=["--clock-skew", "0"]) as sim:
        runs = run(sim, args.seconds, args.repeats)
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
