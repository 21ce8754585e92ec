"""One measured run of a workload, and the median of repeated runs.

Figures of a ``Run`` (all measured on the service process, see ``bench.processes``):
- ``responses_per_s``: GetImage answers per second, all clients together;
- ``frames_per_s``: distinct camera frames each client received per second (mean over
  clients): 30 means a viewer sees every frame of a 30 frames/s camera;
- ``p50_ms`` / ``p99_ms``: GetImage round-trip latency;
- ``age_ms``: median image age, acquisition time (robot clock, which the simulator keeps equal
  to the local clock for the benchmark) to receipt by the client;
- ``cpu_ms``: service CPU time per response, all threads but the capture threads (found
  as the threads busy while nobody asks): the cost of serving a frame;
- ``rss_mib``: the service's peak RSS during the run;
- ``encodes``: JPEG encodes per response (1.0 = every response re-encoded).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, fields
from typing import Callable, Dict, List, Sequence, TypeVar

from bench.clients import Observation, merged, run_clients
from bench.processes import ServiceProcess

MIB = 1024 * 1024


@dataclass
class Run:
    responses_per_s: float
    frames_per_s: float
    p50_ms: float
    p99_ms: float
    age_ms: float
    cpu_ms: float
    rss_mib: float
    encodes: float
    errors: int


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Background:
    """The service's own work while nobody asks: ``threads`` are the ids of its capture
    threads (the threads busy while idle), ``cpu_per_s`` the CPU seconds per second it used."""

    threads: frozenset
    cpu_per_s: float


def idle_background(service: ServiceProcess, seconds: float = 2.0,
                    share: float = 0.2) -> Background:
    """Watch the idle service for ``seconds``: the threads using at least ``share`` of its
    CPU are its capture threads (rendering or reading the camera), which serving excludes."""
    before, started = service.thread_cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    after, elapsed = service.thread_cpu_seconds(), time.monotonic() - started
    used = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
    total = sum(used.values())
    busy = frozenset(tid for tid, cpu in used.items() if total > 0 and cpu >= share * total)
    return Background(busy, total / elapsed)


def serving_cpu(before: Dict[int, float], after: Dict[int, float],
                background: Background) -> float:
    """CPU seconds used between two ``thread_cpu_seconds`` samples by every thread but the
    capture threads (threads that ended meanwhile are lost: the gRPC pool keeps its own)."""
    return sum(cpu - before.get(tid, 0.0) for tid, cpu in after.items()
               if tid not in background.threads)


def measure(service: ServiceProcess, make_client: Callable[[], object], clients: int,
            seconds: float, background: Background) -> Run:
    """Run ``clients`` clients for ``seconds`` against ``service`` and compute the figures."""
    marks = {}

    def start() -> None:
        marks["counters"] = service.counters()
        service.reset_peak_rss()
        marks["cpu"], marks["t"] = service.thread_cpu_seconds(), time.monotonic()

    def end() -> None:
        marks["cpu"] = serving_cpu(marks["cpu"], service.thread_cpu_seconds(), background)
        marks["t"] = time.monotonic() - marks["t"]
        marks["rss"] = service.peak_rss_bytes()

    observations: List[Observation] = run_clients(make_client, clients, seconds, start, end)
    after = service.counters()
    encodes = after["encodes"] - marks["counters"]["encodes"]
    total = merged(observations)
    responses = len(total.latencies)
    elapsed = marks["t"]
    return Run(
        responses_per_s=responses / elapsed,
        frames_per_s=statistics.mean(len(o.frames) for o in observations) / elapsed,
        p50_ms=percentile(total.latencies, 0.5) * 1000,
        p99_ms=percentile(total.latencies, 0.99) * 1000,
        age_ms=percentile(total.ages, 0.5) * 1000,
        cpu_ms=marks["cpu"] * 1000 / max(1, responses),
        rss_mib=marks["rss"] / MIB,
        encodes=encodes / max(1, responses),
        errors=total.errors,
    )


RunT = TypeVar("RunT")


def median_fields(runs: Sequence[RunT]) -> RunT:
    """Figure by figure median of repeated runs of one dataclass (``errors`` is summed)."""
    values = {}
    for item in fields(runs[0]):
        column = [getattr(run, item.name) for run in runs]
        values[item.name] = sum(column) if item.name == "errors" else statistics.median(column)
    return type(runs[0])(**values)


def median_run(runs: Sequence[Run]) -> Run:
    """Figure by figure median of repeated runs (errors are summed)."""
    return median_fields(runs)
