"""``python -m bench`` (``make bench``): the camera service against its re-encode-every-request
baseline, printed as tables and written to docs/BENCHMARKS.md, each section with its plot
(``bench.plots``: SVG files in docs/benchmarks/, drawn from the same run; ``--no-write``
writes neither).

Workloads (``--workloads``): ``tablet`` (``bench.tablet``: 2 paced clients x 30 req/s with the
SDK's default request, and 4 clients flat out, against the baseline and the floor, a bare
gRPC server), ``latency`` (``bench.latency``: glass-to-client latency of an HTTP MJPEG camera
whose frames show their send time, at the same two loads) and ``matrix`` (below).

For each source (synthetic native-JPEG camera; the fake IP camera through the ``url``
source) and resolution (720p, 1080p, both 30 frames/s, cameras delivering JPEG quality 90) it
starts the service twice as a child process - as shipped, and as ``bench.baseline`` (every
request decoded and re-encoded, as the SDK example does) - registered with a robot
simulator process, and runs 1 and 4 clients asking for JPEG quality 75, directly and through
the simulator's routing. Every figure is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from bench import latency_report, tablet_report
from bench.clients import DirectClient, RoutedClient, jpeg_request
from bench.configs import BASELINE_MODULE, SERVICE_MODULE, service_config
from bench.latency import run_latency
from bench.measure import Run, idle_background, measure, median_run
from bench.plots import PLOT_DIR, latency_plot, tablet_plot
from bench.processes import FakeCameraProcess, ServiceProcess
from bench.report import MODES, Results, Workload, figures_table, ratios_table
from bench.tablet import run_tablet
from bench.writer import write_document
from robot_sim import RobotSimulatorProcess

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
SOURCES = ("synthetic", "ipcam", "passthrough")
PATHS = ("direct", "routed")
WORKLOADS = ("tablet", "latency", "matrix")
FPS = 30
CAMERA_QUALITY = 90  # what the cameras deliver; clients ask for REQUEST_QUALITY
REQUEST_QUALITY = 75
SOURCE_NAME = "cam"


def _csv(choices):
    def parse(text: str) -> List[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if choices and item not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown[0]!r}; use {', '.join(choices)}")
        return items
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--sources", type=_csv(SOURCES), default=list(SOURCES))
    parser.add_argument("--resolutions", type=_csv(tuple(RESOLUTIONS)),
                        default=list(RESOLUTIONS))
    parser.add_argument("--clients", type=_csv(()), default=["1", "4"],
                        help="comma-separated client counts")
    parser.add_argument("--paths", type=_csv(PATHS), default=list(PATHS))
    parser.add_argument("--output", type=Path, default=Path("docs/BENCHMARKS.md"))
    parser.add_argument("--no-write", action="store_true",
                        help="print only: write neither the document nor its plots")
    parser.add_argument("--workloads", type=_csv(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 repeat of 1.5 s, 720p synthetic, direct")
    return parser


def source_entry(kind: str, size, camera: FakeCameraProcess | None) -> Dict:
    """The service's ``sources`` entry: ``ipcam`` reads ``camera`` (its bytes pass through,
    the default policy); ``synthetic`` delivers JPEG at CAMERA_QUALITY with
    ``jpeg_passthrough: never`` (re-encoded for the clients, once per frame: what encode-once
    saves), ``passthrough`` at REQUEST_QUALITY (its bytes are what the clients ask for)."""
    if kind == "ipcam":
        assert camera is not None
        return {"name": SOURCE_NAME, "type": "url", "url": camera.url}
    width, height = size
    entry = {"name": SOURCE_NAME, "type": "synthetic", "width": width, "height": height,
             "fps": FPS, "native_jpeg": True}
    if kind == "passthrough":
        return {**entry, "jpeg_quality": REQUEST_QUALITY}
    return {**entry, "jpeg_quality": CAMERA_QUALITY, "jpeg_passthrough": "never"}


def client_factory(sim, mode: str, service: ServiceProcess, path: str):
    """A function making one client of ``path`` for the service of ``mode``."""
    request = jpeg_request(SOURCE_NAME, REQUEST_QUALITY)
    if path == "direct":
        return lambda: DirectClient(service.port, request)
    return lambda: RoutedClient(sim, f"bench-{mode}", request)


def bench_group(sim, kind: str, resolution: str, args, results: Results) -> None:
    """Both modes of one source and resolution, every path and client count.

    Both services run side by side and the runs alternate between them (ours, baseline,
    baseline, ours, ...), so that a load change on the machine hits both alike.
    """
    size = RESOLUTIONS[resolution]
    with ExitStack() as stack:
        camera = None
        if kind == "ipcam":
            camera = stack.enter_context(FakeCameraProcess(*size, FPS, CAMERA_QUALITY))
        services, idle = {}, {}
        for mode in MODES:
            config = service_config(sim, f"bench-{mode}", source_entry(kind, size, camera))
            module = BASELINE_MODULE if mode == "baseline" else SERVICE_MODULE
            services[mode] = stack.enter_context(ServiceProcess(config, module=module))
        for mode in MODES:
            sim.wait_for_service(f"bench-{mode}", timeout=30)
        time.sleep(1.0)  # capture settles, time sync done
        for mode, service in services.items():
            idle[mode] = idle_background(service)
            print(f"  {mode}: idle capture CPU {idle[mode].cpu_per_s * 1000:.0f} ms/s in "
                  f"{len(idle[mode].threads)} thread(s)", flush=True)
        for path in args.paths:
            for clients in args.clients:
                workload = Workload(kind, resolution, int(clients), path)
                runs: Dict[str, List[Run]] = {mode: [] for mode in MODES}
                for repeat in range(args.repeats):
                    order = MODES if repeat % 2 == 0 else tuple(reversed(MODES))
                    for mode in order:
                        make = client_factory(sim, mode, services[mode], path)
                        runs[mode].append(measure(services[mode], make, workload.clients,
                                                  args.seconds, idle[mode]))
                for mode in MODES:
                    run = results[(workload, mode)] = median_run(runs[mode])
                    print(f"    {workload.label()}, {mode}: {run.responses_per_s:.0f} resp/s, "
                          f"{run.cpu_ms:.2f} CPU ms/resp, p50 {run.p50_ms:.1f} ms", flush=True)


def ordered(results: Results) -> Results:
    """Rows grouped by workload, ours before baseline."""
    workloads = list(dict.fromkeys(workload for workload, _ in results))
    return {(w, m): results[(w, m)] for w in workloads for m in MODES if (w, m) in results}


def run_matrix(sim, args) -> Results:
    """Every source, resolution, path and client count of the matrix."""
    results: Results = {}
    for kind in args.sources:
        for resolution in args.resolutions:
            print(f"{kind} {resolution}:", flush=True)
            bench_group(sim, kind, resolution, args, results)
    return ordered(results)


def publish(args, text: str, plot: Callable[[Path], object],
            markers: Tuple[str, str] = (tablet_report.START, tablet_report.END),
            after: str | None = None) -> None:
    """Print a workload's section (``text``, within ``markers``) and, unless ``--no-write``,
    draw its plot (``plot(directory)``, from the same results) into ``PLOT_DIR`` beside the
    output document and put the section into the document (see
    ``tablet_report.write_section``)."""
    print("\n" + text)
    if not args.no_write:
        plot(args.output.parent / PLOT_DIR)
        tablet_report.write_section(args.output, text, *markers, after=after)


def main(argv: List[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl+C, so that the child processes are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.seconds, args.repeats = 1.5, 1
        args.sources, args.resolutions, args.paths = ["synthetic"], ["720p"], ["direct"]
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-robot-") as state, \
            RobotSimulatorProcess(state_dir=state, extra_args=["--clock-skew", "0"]) as sim:
        seconds = max(args.seconds, 3.0)
        if "tablet" in args.workloads:
            print("tablet-like load (720p30 MJPEG IP camera, quality 90):", flush=True)
            tablet = run_tablet(sim, seconds, args.repeats)
            publish(args, tablet_report.section(tablet, command.strip()),
                    partial(tablet_plot, tablet))
        if "latency" in args.workloads:
            print("glass-to-client latency (720p30 MJPEG clock camera, quality 90):", flush=True)
            latency = run_latency(sim, seconds, args.repeats)
            publish(args, latency_report.section(latency, command.strip()),
                    partial(latency_plot, latency), (latency_report.START, latency_report.END),
                    after=tablet_report.END)
        results = run_matrix(sim, args) if "matrix" in args.workloads else {}
    if results:
        print("\nRatios (above 1 = the service beats the re-encode-every-request baseline)\n")
        print(ratios_table(results))
        print("\nAll figures (medians)\n")
        print(figures_table(results))
        if not args.no_write:
            write_document(args.output, results, command.strip(), args)
    print(f"\ndone in {time.time() - started:.0f} s")
    if not args.no_write:
        print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
