"""The benchmark's tables (Markdown, readable on a terminal too) and docs/BENCHMARKS.md."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from bench.measure import Run


@dataclass(frozen=True)
class Workload:
    """What one row measures: ``source`` (synthetic | ipcam), ``resolution`` (720p | 1080p),
    ``clients`` (concurrent GetImage clients), ``path`` (direct | routed)."""

    source: str
    resolution: str
    clients: int
    path: str

    def label(self) -> str:
        return f"{self.source} {self.resolution}, {self.clients} client(s), {self.path}"


MODES = ("ours", "baseline")
Results = Dict[Tuple[Workload, str], Run]


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: List[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |"
             for line in [header, *rows]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def figures_table(results: Results) -> str:
    """One row per workload and mode with every figure."""
    header = ["source", "res", "clients", "path", "mode", "resp/s", "frames/s", "p50 ms",
              "p99 ms", "age ms", "CPU ms/resp", "encodes/resp", "peak RSS MiB", "errors"]
    rows = []
    for (workload, mode), run in results.items():
        rows.append([workload.source, workload.resolution, str(workload.clients), workload.path,
                     mode, fmt(run.responses_per_s), fmt(run.frames_per_s),
                     fmt(run.p50_ms), fmt(run.p99_ms), fmt(run.age_ms), fmt(run.cpu_ms, 2),
                     fmt(run.encodes, 2), fmt(run.rss_mib, 0), str(run.errors)])
    return markdown_table(header, rows)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def ratio_rows(results: Results) -> List[Tuple[Workload, Dict[str, float]]]:
    """Per workload: baseline CPU / ours, ours throughput / baseline, baseline latency /
    ours (p50, p99), ours frames / baseline frames. Above 1 = ours is better."""
    rows = []
    workloads = list(dict.fromkeys(workload for workload, _ in results))
    for workload in workloads:
        ours, base = results.get((workload, "ours")), results.get((workload, "baseline"))
        if ours is None or base is None:
            continue
        rows.append((workload, {
            "cpu": _ratio(base.cpu_ms, ours.cpu_ms),
            "throughput": _ratio(ours.responses_per_s, base.responses_per_s),
            "p50": _ratio(base.p50_ms, ours.p50_ms),
            "p99": _ratio(base.p99_ms, ours.p99_ms),
            "frames": _ratio(ours.frames_per_s, base.frames_per_s),
        }))
    return rows


def ratios_table(results: Results) -> str:
    header = ["workload", "CPU/resp baseline÷ours", "resp/s ours÷baseline",
              "p50 baseline÷ours", "p99 baseline÷ours", "frames/s ours÷baseline"]
    rows = [[workload.label(), *(fmt(r[k], 1) + "x" for k in
                                 ("cpu", "throughput", "p50", "p99", "frames"))]
            for workload, r in ratio_rows(results)]
    return markdown_table(header, rows)


def machine() -> str:
    """CPU model, core count and Python version of this machine."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")
