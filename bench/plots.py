"""The plots of docs/BENCHMARKS.md, one per section, drawn from the same results objects as
the section's tables (``python -m bench`` writes both, or neither with ``--no-write``).

Files, in ``PLOT_DIR`` beside the document (each with a ``-dark`` twin, see
``bench.svg_figure``):
- ``tablet.svg``: service CPU against the floor (+ the service's idle CPU) and the
  re-encode baseline, idle and at tablet load (CPU ms per second) and at saturation (CPU
  ms per response), with the issue's bounds as lines;
- ``latency.svg``: glass-to-client p50 and p95 per load, with each load's p50 bound;
- ``matrix.svg``: CPU ms per response of the service and the baseline, per workload row.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.latency import LOADS, MAX_P50_MS, LatencyResults
from bench.report import MODES, Results
from bench.svg_figure import Theme, draw_themed, new_figure, reference, style_axes, style_legend
from bench.tablet import (
    MAX_CPU_OF_BASELINE,
    MAX_CPU_OVER_FLOOR,
    MAX_CPU_PER_RESPONSE_OF_BASELINE,
    MAX_IDLE_MS_PER_S,
    SATURATION_CLIENTS,
    TABLET_CLIENTS,
    TABLET_RATE,
    TabletResults,
)

PLOT_DIR = "benchmarks"  # beside the document
TABLET, LATENCY, MATRIX = "tablet.svg", "latency.svg", "matrix.svg"
SERVERS = ("service", "floor", "baseline")
BAR = 0.6


def markdown(name: str, alt: str) -> str:
    """The section's reference to its plot ``name`` (a file of ``PLOT_DIR``)."""
    return reference(alt, f"{PLOT_DIR}/{name}")


def _label_bars(axes, bars, theme: Theme, labels: Sequence[str]) -> None:
    axes.bar_label(bars, labels=list(labels), padding=2, color=theme.text, fontsize=8.0)


def _server_bars(axes, theme: Theme, values: Sequence[float], idle: float,
                 digits: int) -> None:
    """Bars for SERVERS, each figure under its name (clear of the bound lines); the floor's
    bar carries the service's idle CPU on top when ``idle`` > 0."""
    colours = theme.colours
    positions = list(range(len(SERVERS)))
    axes.bar(positions, values, BAR, color=[colours[name] for name in SERVERS])
    names = [f"{name}\n{value:.{digits}f}" for name, value in zip(SERVERS, values)]
    if idle > 0:
        floor = SERVERS.index("floor")
        axes.bar([floor], [idle], BAR, bottom=[values[floor]], color=colours["idle"],
                 label="+ service idle")
        names[floor] = f"floor + idle\n{values[floor]:.{digits}f} + {idle:.{digits}f}"
    axes.set_xticks(positions, names)
    axes.grid(axis="y", color=theme.grid, linewidth=0.6)


def _bound(axes, value: float, label: str, unit: str, colour: str, style: str) -> None:
    axes.axhline(value, color=colour, linestyle=style, linewidth=1.2,
                 label=f"{label} = {value:.3g} {unit}")


def _tablet_figure(results: TabletResults, theme: Theme) -> Figure:
    figure = new_figure(theme, 8.0, 3.9)
    quiet, left, right = figure.subplots(1, 3, gridspec_kw={"width_ratios": (0.8, 1.2, 1.0)})
    tablet, saturation = results.tablet, results.saturation
    idle = results.idle_ms_per_s["service"]
    bound, bound2 = theme.colours["bound"], theme.colours["bound2"]
    _server_bars(quiet, theme, [results.idle_ms_per_s[n] for n in SERVERS], 0.0, 0)
    _bound(quiet, MAX_IDLE_MS_PER_S, "idle: bound (service)", "ms/s", bound, "--")
    quiet.set_title("idle: no client")
    quiet.set_ylabel("server CPU ms per s")
    _server_bars(left, theme, [tablet[n].cpu_ms_per_s for n in SERVERS], idle, 0)
    _bound(left, MAX_CPU_OVER_FLOOR * (tablet["floor"].cpu_ms_per_s + idle),
           f"tablet: bound {MAX_CPU_OVER_FLOOR:g} x (floor + idle)", "ms/s", bound, "--")
    _bound(left, MAX_CPU_OF_BASELINE * tablet["baseline"].cpu_ms_per_s,
           f"tablet: bound baseline ÷ {1 / MAX_CPU_OF_BASELINE:g}", "ms/s", bound2, ":")
    left.set_title(f"tablet: {TABLET_CLIENTS} clients x {TABLET_RATE:g} req/s")
    left.set_ylabel("server CPU ms per s")
    _server_bars(right, theme, [saturation[n].cpu_ms_per_resp for n in SERVERS], 0.0, 2)
    _bound(right, MAX_CPU_PER_RESPONSE_OF_BASELINE * saturation["baseline"].cpu_ms_per_resp,
           f"saturation: bound baseline ÷ {1 / MAX_CPU_PER_RESPONSE_OF_BASELINE:g}", "ms",
           bound2, ":")
    right.set_title(f"saturation: {SATURATION_CLIENTS} clients flat out")
    right.set_ylabel("server CPU ms per response")
    handles, labels = [], []
    for axes in (quiet, left, right):
        style_axes(axes, theme)
        axes.tick_params(axis="x", labelsize=8.0)
        more = axes.get_legend_handles_labels()
        handles += more[0]
        labels += more[1]
    # one legend under the panels: clear of bars of any height, and of the panels' widths
    style_legend(figure.legend(handles, labels, loc="outside lower center", ncol=2), theme)
    return figure


def tablet_plot(results: TabletResults, directory: Path) -> List[Path]:
    """Write ``TABLET`` (and its dark twin) into ``directory``; returns the files."""
    return draw_themed(lambda theme: _tablet_figure(results, theme), directory / TABLET)


def _latency_figure(results: LatencyResults, theme: Theme) -> Figure:
    figure = new_figure(theme, 5.6, 3.0)
    axes = figure.subplots()
    loads = [name for name in LOADS if name in results.loads]
    for offset, key in ((-BAR / 4, "p50"), (BAR / 4, "p95")):
        values = [getattr(results.loads[name], f"{key}_ms") for name in loads]
        bars = axes.bar([i + offset for i in range(len(loads))], values, BAR / 2,
                        color=theme.colours[key], label=key)
        _label_bars(axes, bars, theme, [f"{value:.1f}" for value in values])
    for i, name in enumerate(loads):
        axes.hlines(MAX_P50_MS[name], i - BAR / 2, i, color=theme.colours["bound"],
                    linestyle="--", linewidth=1.2, label="p50 bound" if i == 0 else None)
    axes.set_xticks(range(len(loads)), [f"{name}" for name in loads])
    axes.set_ylabel("glass-to-client ms")
    axes.set_title("glass-to-client latency per load")
    axes.grid(axis="y", color=theme.grid, linewidth=0.6)
    axes.margins(y=0.15)
    style_axes(axes, theme)
    style_legend(axes.legend(loc="upper center"), theme)  # in the gap between the loads
    return figure


def latency_plot(results: LatencyResults, directory: Path) -> List[Path]:
    """Write ``LATENCY`` (and its dark twin) into ``directory``; returns the files."""
    return draw_themed(lambda theme: _latency_figure(results, theme), directory / LATENCY)


def _matrix_figure(results: Results, theme: Theme) -> Figure:
    workloads = list(dict.fromkeys(workload for workload, _ in results))
    figure = new_figure(theme, 7.2, 1.1 + 0.26 * len(workloads))
    axes = figure.subplots()
    rows = range(len(workloads))
    for offset, mode in zip((-0.2, 0.2), MODES):
        runs = [results.get((w, mode)) for w in workloads]
        values = [run.cpu_ms if run is not None else float("nan") for run in runs]
        colour = theme.colours["service" if mode == "ours" else "baseline"]
        label = "service" if mode == "ours" else "baseline (re-encode every request)"
        bars = axes.barh([r + offset for r in rows], values, 0.4, color=colour, label=label)
        _label_bars(axes, bars, theme, ["" if run is None else f"{run.cpu_ms:.2f}"
                                        for run in runs])
    axes.set_yticks(list(rows), [w.label() for w in workloads])
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("server CPU ms per response (log scale)")
    axes.grid(axis="x", which="major", color=theme.grid, linewidth=0.6)
    axes.margins(x=0.12)
    style_axes(axes, theme)
    style_legend(axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2), theme)
    return figure


def matrix_plot(results: Results, directory: Path) -> List[Path]:
    """Write ``MATRIX`` (and its dark twin) into ``directory``; returns the files."""
    return draw_themed(lambda theme: _matrix_figure(results, theme), directory / MATRIX)
