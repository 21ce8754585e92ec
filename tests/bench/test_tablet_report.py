"""The tablet workload's verdicts and its section of docs/BENCHMARKS.md."""

from __future__ import annotations

from bench.tablet import LoadRun, TabletResults
from bench.tablet_report import END, START, existing_section, section, write_section


def _run(cpu_per_s=40.0, cpu_per_resp=0.5, p99=5.0, union=30.0):
    return LoadRun(cpu_per_s, cpu_per_resp, 60.0, union, union, 1.0, p99, 0)


def _results(service_cpu):
    tablet = {"service": _run(service_cpu, p99=4.0), "baseline": _run(300.0, p99=9.0),
              "floor": _run(30.0)}
    saturation = {"service": _run(cpu_per_resp=0.3), "baseline": _run(cpu_per_resp=4.0),
                  "floor": _run(cpu_per_resp=0.2)}
    return TabletResults({"service": 10.0, "baseline": 10.0, "floor": 0.0}, tablet, saturation,
                         repeats=3, seconds=5.0)


def test_verdicts_compare_the_service_with_floor_plus_idle_and_the_baseline():
    passing = {what: (value, ok) for what, value, _, ok in _results(45.0).verdicts()}
    over_floor = passing["tablet: service CPU / (floor CPU + service idle CPU)"]
    assert over_floor == (45.0 / 40.0, True)
    assert passing["tablet: service CPU / baseline CPU"] == (0.15, True)
    assert passing["saturation: service CPU per response / baseline's"] == (0.075, True)
    assert passing["idle: service CPU ms/s, camera read, no client"] == (10.0, False)
    failing = {what: ok for what, _, _, ok in _results(70.0).verdicts()}
    assert not failing["tablet: service CPU / (floor CPU + service idle CPU)"]
    assert not failing["tablet: service CPU / baseline CPU"]


def test_section_replaces_only_itself(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nintro\n\n## Summary\n\nmatrix\n", encoding="utf-8")
    write_section(path, section(_results(45.0), "python -m bench"))
    first = path.read_text(encoding="utf-8")
    assert first.index(START) < first.index("## Summary") and "matrix" in first
    write_section(path, section(_results(70.0), "python -m bench"))
    again = path.read_text(encoding="utf-8")
    assert again.count(START) == 1 and again.count(END) == 1 and "matrix" in again
    assert "| NO " in existing_section(path)
