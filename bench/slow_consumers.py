"""Slow consumers against the service: ``count`` HTTP/2 clients with a zero flow-control
window, each asking for 32 RAW images with no deadline (``fake_clients.slow_h2_client``),
while one normal client polls JPEG frames through the robot (simulator) routing. Prints the
normal client's fresh frames per second before and while the stalled clients are connected.

    python -m bench.slow_consumers [--count 10] [--seconds 10] [--memory-mib 512]

Issue 23's done-when: with 10 zero-window clients connected, the normal client through the
robot still gets 30 fresh frames/s (the camera's rate). The figures depend on the machine
(2 shared cores here); the stalled clients' effect is the ratio of the two runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import List, Optional

from bench.clients import RoutedClient, jpeg_request, run_clients
from bench.configs import service_config
from bench.processes import ServiceProcess
from fake_clients.slow_h2_client import SlowH2Clients
from robot_sim import RobotSimulatorProcess

SOURCE = "cam"
FPS = 30


def fresh_fps(sim, name: str, seconds: float) -> tuple:
    """(fresh frames per second, errors) of one closed-loop routed JPEG client; (0, the
    error) when not even its first call is answered."""
    try:
        (observation,) = run_clients(
            lambda: RoutedClient(sim, name, jpeg_request(SOURCE, 75)), 1, seconds)
    except Exception as err:  # the warm-up call failed: nothing served at all
        return 0.0, f"first call failed: {type(err).__name__}"
    return len(observation.frames) / seconds, observation.errors


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="stalled clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="each measured window")
    parser.add_argument("--memory-mib", type=int, default=512,
                        help="service.memory_limit_mib (the extension's container limit)")
    parser.add_argument("--size", default="640x480", help="camera frame size WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    name = "bench-slow"
    with tempfile.TemporaryDirectory(prefix="bench-robot-") as state, \
            RobotSimulatorProcess(state_dir=state, extra_args=["--clock-skew", "0"]) as sim:
        config = service_config(sim, name, {"name": SOURCE, "type": "synthetic",
                                            "width": width, "height": height, "fps": FPS,
                                            "native_jpeg": False})
        config["service"]["memory_limit_mib"] = args.memory_mib
        with ServiceProcess(config) as service:
            sim.wait_for_service(name, timeout=30)
            before, errors_before = fresh_fps(sim, name, args.seconds)
            print(f"normal client through the robot, alone: {before:.1f} fresh frames/s "
                  f"({errors_before} errors)", flush=True)
            with SlowH2Clients(f"127.0.0.1:{service.port}", args.count, sources=[SOURCE],
                               images=32) as stalled:
                started = time.monotonic()
                while (time.monotonic() - started < 10
                       and sum(c.response_started.is_set() for c in stalled.clients) < args.count):
                    time.sleep(0.1)  # (bench, not a test) let the stalled calls be answered
                answered = sum(c.response_started.is_set() for c in stalled.clients)
                during, errors = fresh_fps(sim, name, args.seconds)
                ended = sum(c.ended.is_set() for c in stalled.clients)
            print(f"with {args.count} zero-window clients asking 32 RAW {args.size} images "
                  f"({answered} answered headers, {ended} ended by the service): "
                  f"{during:.1f} fresh frames/s ({errors} errors)", flush=True)
            guard_lines = [line for line in service.lines if "GetImage" in line]
            print(f"service log lines about GetImage: {len(guard_lines)}")
            for line in guard_lines[:5]:
                print("  " + line[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
