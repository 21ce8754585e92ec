"""The load real clients make, measured against the baseline and the floor in one run.

Camera: the fake IP camera (``fake_cameras.ip_camera``, its own process) at 1280x720, 30
frames/s, JPEG quality 90, read by the service's ``url`` source (HTTP multipart MJPEG).
Three server processes, side by side:
- *service*: the camera service as shipped;
- *baseline*: the same service re-encoding every request (``configs.BASELINE_MODULE``), the SDK
  example's way;
- *floor*: ``bench.floor``, a bare Python gRPC server answering one pre-serialized response
  of the service (same bytes, same size) to every GetImage.

Workloads, each client on its own gRPC channel straight to the server's port, sending the
SDK's ``build_image_request(source)`` with its defaults:
- *tablet*: 2 clients x 30 GetImage/s on a fixed schedule (a tablet plus Data Acquisition);
- *saturation*: 4 clients flat out (closed loop).

Figures: server CPU (user + system, every thread of the process) per wall second and per
response; the same servers' CPU with no client (idle: the service reading its camera);
fresh frames/s (distinct camera frames per client per second, and all clients together);
p50/p99 round trip. Every figure is the median of ``repeats`` runs, the targets alternating
so that a load change on the machine hits all alike.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc

from bench.clients import DirectClient, Observation, merged, run_clients, sdk_default_request
from bench.configs import BASELINE_MODULE, SERVICE_MODULE, service_config
from bench.floor import FloorProcess
from bench.measure import median_fields, percentile
from bench.processes import FakeCameraProcess, MeasuredProcess, ServiceProcess

SIZE, FPS, CAMERA_QUALITY = (1280, 720), 30, 90
TABLET_CLIENTS, TABLET_RATE = 2, 30.0
SATURATION_CLIENTS = 4
IDLE_SECONDS = 6.0  # the idle window (at least): its figure enters the floor bound
TARGETS = ("service", "baseline", "floor")
SOURCE_NAME = "cam"
# The "done when" bounds.
MAX_CPU_OVER_FLOOR = 1.15  # service CPU <= this x (floor + service idle) (issue 24)
MAX_IDLE_MS_PER_S = 8.0  # the service reading its camera, nobody asking (issue 24)
MAX_CPU_OF_BASELINE = 1 / 5
MIN_FRESH_FPS = 28.0
MAX_CPU_PER_RESPONSE_OF_BASELINE = 1 / 8


@dataclass
class LoadRun:
    """One workload against one server (see module doc for the figures)."""

    cpu_ms_per_s: float
    cpu_ms_per_resp: float
    responses_per_s: float
    fresh_fps: float  # per client, mean
    union_fps: float  # all clients together
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class TabletResults:
    """Per target: idle CPU ms/s, and the median ``LoadRun`` of each workload; the machine's
    1-minute load average before and after the runs (the servers, the camera and the clients
    share the machine with whatever else runs)."""

    idle_ms_per_s: Dict[str, float]
    tablet: Dict[str, LoadRun]
    saturation: Dict[str, LoadRun]
    repeats: int
    seconds: float
    load_average: Tuple[float, float] = (float("nan"), float("nan"))

    def verdicts(self) -> List[tuple]:
        """(what, measured, bound, passed) for each "done when" item."""
        service, baseline, floor = (self.tablet[t] for t in TARGETS)
        over_floor = service.cpu_ms_per_s / (floor.cpu_ms_per_s + self.idle_ms_per_s["service"])
        of_baseline = service.cpu_ms_per_s / baseline.cpu_ms_per_s
        per_resp = (self.saturation["service"].cpu_ms_per_resp
                    / self.saturation["baseline"].cpu_ms_per_resp)
        idle = self.idle_ms_per_s["service"]
        return [
            ("idle: service CPU ms/s, camera read, no client", idle,
             f"<= {MAX_IDLE_MS_PER_S:g}", idle <= MAX_IDLE_MS_PER_S),
            ("tablet: service CPU / (floor CPU + service idle CPU)", over_floor,
             f"<= {MAX_CPU_OVER_FLOOR:g}", over_floor <= MAX_CPU_OVER_FLOOR),
            ("tablet: service CPU / baseline CPU", of_baseline,
             f"<= {MAX_CPU_OF_BASELINE:.2f}", of_baseline <= MAX_CPU_OF_BASELINE),
            ("tablet: camera frames reaching the clients per s", service.union_fps,
             f">= {MIN_FRESH_FPS:g}", service.union_fps >= MIN_FRESH_FPS),
            ("tablet: service p99 / baseline p99 (ms)", service.p99_ms / baseline.p99_ms,
             "<= 1", service.p99_ms <= baseline.p99_ms),
            ("saturation: service CPU per response / baseline's", per_resp,
             f"<= {MAX_CPU_PER_RESPONSE_OF_BASELINE:.3f}",
             per_resp <= MAX_CPU_PER_RESPONSE_OF_BASELINE),
        ]


def idle_cpu(targets: Dict[str, MeasuredProcess], seconds: float) -> Dict[str, float]:
    """CPU ms per wall second of each target while no client asks (one shared window)."""
    before = {name: target.cpu_seconds() for name, target in targets.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    return {name: (target.cpu_seconds() - before[name]) * 1000 / elapsed
            for name, target in targets.items()}


def measure_load(target: MeasuredProcess, port: int, clients: int, seconds: float,
                 rate: float | None) -> LoadRun:
    """``clients`` SDK-default clients against ``port`` (served by ``target``)."""
    marks: Dict[str, float] = {}

    def start() -> None:
        marks["cpu"], marks["t"] = target.cpu_seconds(), time.monotonic()

    def end() -> None:
        marks["cpu"] = target.cpu_seconds() - marks["cpu"]
        marks["t"] = time.monotonic() - marks["t"]

    request = sdk_default_request(SOURCE_NAME)
    observations: List[Observation] = run_clients(lambda: DirectClient(port, request),
                                                  clients, seconds, start, end, rate=rate)
    total = merged(observations)
    elapsed, responses = marks["t"], len(total.latencies)
    return LoadRun(
        cpu_ms_per_s=marks["cpu"] * 1000 / elapsed,
        cpu_ms_per_resp=marks["cpu"] * 1000 / max(1, responses),
        responses_per_s=responses / elapsed,
        fresh_fps=statistics.mean(len(o.frames) for o in observations) / elapsed,
        union_fps=len(set().union(*(o.frames for o in observations))) / elapsed,
        p50_ms=percentile(total.latencies, 0.5) * 1000,
        p99_ms=percentile(total.latencies, 0.99) * 1000,
        errors=total.errors,
    )


def median_load(runs: Sequence[LoadRun]) -> LoadRun:
    """Figure by figure median (errors summed)."""
    return median_fields(runs)


def one_response(port: int) -> bytes:
    """A serialized GetImageResponse of the service for the SDK default request."""
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024)]) as channel:
        stub = image_service_pb2_grpc.ImageServiceStub(channel)
        response = stub.GetImage(image_pb2.GetImageRequest(
            image_requests=[sdk_default_request(SOURCE_NAME)]), timeout=10)
    if response.image_responses[0].status != image_pb2.ImageResponse.STATUS_OK:
        raise RuntimeError(f"service answered {response.image_responses[0].status}")
    return response.SerializeToString()


def run_tablet(sim, seconds: float, repeats: int) -> TabletResults:
    """Start camera, service, baseline and floor; measure idle, tablet and saturation."""
    with ExitStack() as stack:
        camera = stack.enter_context(FakeCameraProcess(*SIZE, FPS, CAMERA_QUALITY))
        source = {"name": SOURCE_NAME, "type": "url", "url": camera.url}
        servers: Dict[str, ServiceProcess] = {}
        for name, module in (("service", SERVICE_MODULE), ("baseline", BASELINE_MODULE)):
            servers[name] = stack.enter_context(ServiceProcess(
                service_config(sim, f"tablet-{name}", source), module=module))
        for name in servers:
            sim.wait_for_service(f"tablet-{name}", timeout=30)
        time.sleep(1.0)  # capture settles, time sync done
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-floor-")))
        response_file = workdir / "floor-response.bin"
        response_file.write_bytes(one_response(servers["service"].port))
        floor = stack.enter_context(FloorProcess(response_file))
        targets: Dict[str, MeasuredProcess] = {**servers, "floor": floor}
        ports = {name: target.port for name, target in targets.items()}
        time.sleep(1.0)
        before = os.getloadavg()[0]
        idle = idle_cpu(targets, max(seconds, IDLE_SECONDS))
        print("  idle CPU ms/s: " + ", ".join(f"{n} {v:.0f}" for n, v in idle.items()),
              flush=True)
        tablet: Dict[str, List[LoadRun]] = {name: [] for name in TARGETS}
        saturation: Dict[str, List[LoadRun]] = {name: [] for name in TARGETS}
        for repeat in range(repeats):
            order = TARGETS[repeat % 3:] + TARGETS[:repeat % 3]
            for name in order:
                run = measure_load(targets[name], ports[name], TABLET_CLIENTS, seconds,
                                   TABLET_RATE)
                tablet[name].append(run)
                print(f"    tablet, {name}: {run.cpu_ms_per_s:.0f} CPU ms/s, "
                      f"{run.union_fps:.1f} frames/s, p99 {run.p99_ms:.1f} ms", flush=True)
            for name in order:
                run = measure_load(targets[name], ports[name], SATURATION_CLIENTS, seconds,
                                   None)
                saturation[name].append(run)
                print(f"    saturation, {name}: {run.responses_per_s:.0f} resp/s, "
                      f"{run.cpu_ms_per_resp:.2f} CPU ms/resp", flush=True)
        after = os.getloadavg()[0]
    return TabletResults(idle, {n: median_load(r) for n, r in tablet.items()},
                         {n: median_load(r) for n, r in saturation.items()}, repeats, seconds,
                         (before, after))
