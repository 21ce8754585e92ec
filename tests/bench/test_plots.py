"""The plots of docs/BENCHMARKS.md, drawn from hand-made results (nothing timed): each plot
is an SVG file (and its dark twin) holding its series' labels and figures as text, the same
results give the same bytes, each section's Markdown shows the files its plot function
writes, and ``python -m bench``'s writer writes section and plot together, or neither."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bench import latency_report, plots, tablet_report
from bench.__main__ import publish
from bench.latency import Latency, LatencyResults
from bench.measure import Run
from bench.report import Workload
from bench.svg_figure import themed_paths
from bench.tablet import MAX_CPU_OVER_FLOOR, LoadRun, TabletResults
from bench.writer import write_document

IMAGE = re.compile(r"!\[[^\]]+\]\(([^)#]+)#gh-(light|dark)-mode-only\)")


def _load(cpu_per_s: float, cpu_per_resp: float) -> LoadRun:
    return LoadRun(cpu_ms_per_s=cpu_per_s, cpu_ms_per_resp=cpu_per_resp, responses_per_s=60.0,
                   fresh_fps=29.5, union_fps=29.9, p50_ms=1.1, p99_ms=3.0, errors=0)


def tablet_results(service_cpu: float = 57.0) -> TabletResults:
    tablet = {"service": _load(service_cpu, 0.95), "baseline": _load(341.0, 5.7),
              "floor": _load(35.0, 0.58)}
    saturation = {"service": _load(880.0, 0.241), "baseline": _load(1590.0, 5.21),
                  "floor": _load(790.0, 0.169)}
    return TabletResults({"service": 13.0, "baseline": 12.0, "floor": 0.0}, tablet,
                         saturation, repeats=1, seconds=3.0)


def latency_results() -> LatencyResults:
    def load(p50: float, p95: float) -> Latency:
        return Latency(answers=500, frames=88, unreadable=0, errors=0, p50_ms=p50, p95_ms=p95,
                       first_p50_ms=7.0, first_p95_ms=20.0, acquisition_p50_ms=1.0,
                       acquisition_p95_ms=6.0)

    return LatencyResults({"tablet": load(17.4, 33.9), "saturation": load(29.6, 81.2)},
                          "88 stamped frames", repeats=1, seconds=3.0)


def matrix_results():
    results = {}
    for index, source in enumerate(("synthetic", "ipcam")):
        workload = Workload(source, "720p", 4, "routed")
        for mode, cpu in (("ours", 0.31 + index), ("baseline", 4.27 + index)):
            results[(workload, mode)] = Run(responses_per_s=100.0, frames_per_s=30.0,
                                            p50_ms=2.0, p99_ms=5.0, age_ms=9.0, cpu_ms=cpu,
                                            rss_mib=120.0, encodes=0.1, errors=0)
    return results


def _texts(svg: Path) -> str:
    """The text the SVG shows (its <text> elements), joined."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text(encoding="utf-8")))


DRAWN = [
    (plots.tablet_plot, tablet_results, plots.TABLET,
     ["service", "floor + idle", "baseline", "+ service idle", "57", "35 + 13", "0.24",
      "idle: no client", "idle: bound (service) = 8 ms/s",
      f"tablet: bound {MAX_CPU_OVER_FLOOR:g} x (floor + idle) = "
      f"{MAX_CPU_OVER_FLOOR * 48:.3g} ms/s",
      "tablet: bound baseline ÷ 5 = 68.2 ms/s", "saturation: bound baseline ÷ 8 = 0.651 ms"]),
    (plots.latency_plot, latency_results, plots.LATENCY,
     ["p50", "p95", "p50 bound", "tablet", "saturation", "17.4", "81.2"]),
    (plots.matrix_plot, matrix_results, plots.MATRIX,
     ["service", "baseline (re-encode every request)", "synthetic 720p, 4 client(s), routed",
      "ipcam 720p, 4 client(s), routed", "0.31", "5.27"]),
]


@pytest.mark.parametrize(("draw", "results", "name", "labels"), DRAWN,
                         ids=[name for _, _, name, _ in DRAWN])
def test_a_plot_is_an_svg_per_theme_with_its_labels_and_figures(tmp_path, draw, results, name,
                                                                labels):
    written = draw(results(), tmp_path)
    assert written == themed_paths(tmp_path / name)
    assert [path.name for path in written] == [name, name.replace(".svg", "-dark.svg")]
    light, dark = (path.read_text(encoding="utf-8") for path in written)
    for svg in (light, dark):
        assert svg.startswith("<?xml") and "<svg" in svg
        assert "<dc:date>" not in svg  # no time stamp: a re-run with the same figures is no diff
    assert light != dark  # each theme has its own colours
    for path in written:
        shown = _texts(path)
        missing = [label for label in labels if label not in shown]
        assert not missing, f"{path.name} lacks {missing}"


@pytest.mark.parametrize(("draw", "results", "name", "labels"), DRAWN,
                         ids=[name for _, _, name, _ in DRAWN])
def test_the_same_results_give_the_same_bytes(tmp_path, draw, results, name, labels):
    first = [path.read_bytes() for path in draw(results(), tmp_path / "a")]
    for other, made, _, _ in DRAWN:  # layouts in between (their float noise once showed)
        other(made(), tmp_path / "others")
    second = [path.read_bytes() for path in draw(results(), tmp_path / "b")]
    assert first == second


def test_other_figures_give_another_plot(tmp_path):
    same = plots.tablet_plot(tablet_results(57.0), tmp_path / "a")[0].read_bytes()
    other = plots.tablet_plot(tablet_results(66.0), tmp_path / "b")[0].read_bytes()
    assert same != other


def _shown(document: Path, text: str) -> dict:
    """The files a section's Markdown shows per theme, resolved from ``document``'s folder."""
    return {theme: (document.parent / target).resolve()
            for target, theme in IMAGE.findall(text)}


SECTIONS = [
    (tablet_report.section, plots.tablet_plot, tablet_results),
    (latency_report.section, plots.latency_plot, latency_results),
]


@pytest.mark.parametrize(("section", "draw", "results"), SECTIONS,
                         ids=["tablet", "latency"])
def test_a_section_shows_the_files_its_plot_function_writes(tmp_path, section, draw, results):
    document = tmp_path / "docs" / "BENCHMARKS.md"
    text = section(results(), "python -m bench")
    written = draw(results(), document.parent / plots.PLOT_DIR)
    assert _shown(document, text) == {"light": written[0].resolve(),
                                      "dark": written[1].resolve()}


def _args(tmp_path: Path, no_write: bool) -> argparse.Namespace:
    return argparse.Namespace(output=tmp_path / "docs" / "BENCHMARKS.md", no_write=no_write)


def test_a_bench_run_writes_a_section_and_its_plot_together(tmp_path, capsys):
    args = _args(tmp_path, no_write=False)
    results = tablet_results()
    text = tablet_report.section(results, "python -m bench")
    publish(args, text, lambda directory: plots.tablet_plot(results, directory))
    assert text in args.output.read_text(encoding="utf-8")
    shown = _shown(args.output, text)
    assert shown and all(path.exists() for path in shown.values())
    assert "service" in _texts(shown["light"]) and text in capsys.readouterr().out


def test_no_write_writes_neither_section_nor_plot(tmp_path, capsys):
    args = _args(tmp_path, no_write=True)
    results = latency_results()
    text = latency_report.section(results, "python -m bench")
    publish(args, text, lambda directory: plots.latency_plot(results, directory))
    assert not (tmp_path / "docs").exists()
    assert "glass-to-client p50" in capsys.readouterr().out


def test_the_full_document_shows_the_matrix_plot_it_writes(tmp_path):
    document = tmp_path / "BENCHMARKS.md"
    write_document(document, matrix_results(), "python -m bench",
                   argparse.Namespace(repeats=1, seconds=3.0))
    shown = _shown(document, document.read_text(encoding="utf-8"))
    assert shown == {theme: path.resolve() for theme, path in
                     zip(("light", "dark"), themed_paths(tmp_path / "benchmarks/matrix.svg"))}
    assert "ipcam 720p, 4 client(s), routed" in _texts(shown["light"])
