"""docs/BENCHMARKS.md as a bench run writes it: its own tables, the sections of other runs kept."""

from __future__ import annotations

import argparse
from dataclasses import fields

from bench.measure import Run
from bench.report import Workload
from bench.writer import KEPT_END, KEPT_START, write_document


def _results():
    run = Run(**{item.name: 0 if item.name == "errors" else 2.0 for item in fields(Run)})
    workload = Workload("ipcam", "720p", 1, "direct")
    return {(workload, "ours"): run, (workload, "baseline"): run}


def test_a_bench_run_keeps_the_sections_other_runs_wrote(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    kept = f"{KEPT_START}\n## Memory budget under hostile input\n\n| case | peak |\n{KEPT_END}"
    path.write_text(f"# Benchmarks\n\nold matrix\n\n{kept}\n", encoding="utf-8")
    args = argparse.Namespace(repeats=3, seconds=3.0)
    write_document(path, _results(), "python -m bench", args)
    written = path.read_text(encoding="utf-8")
    assert "old matrix" not in written and "## Ratios" in written
    assert written.count(kept) == 1
    write_document(path, _results(), "python -m bench", args)
    assert path.read_text(encoding="utf-8").count(kept) == 1


def test_a_document_without_kept_sections_gets_none(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write_document(path, _results(), "python -m bench", argparse.Namespace(repeats=1, seconds=1.0))
    assert KEPT_START not in path.read_text(encoding="utf-8")
