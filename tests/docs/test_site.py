"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing
anchor or a page left out of the navigation fails), the generated configuration reference
lists every key of the config schema, and README.md stays a short page whose links lead to
pages and headings that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from markdown.extensions.toc import slugify

from devtools.config_reference import documented_keys, load_schema, render, schema_keys
from tests.docs.doc_sources import ROOT

README = ROOT / "README.md"
README_MAX_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_site_builds_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    problems = [line for line in result.stderr.splitlines()
                if line.startswith(("WARNING", "ERROR")) or "Aborted" in line]
    assert result.returncode == 0, "\n".join(problems) or result.stderr[-2000:]
    built = (tmp_path / "configuration-reference" / "index.html").read_text()
    assert "sources[].jpeg_passthrough" in built  # the generated part is on the page
    benchmarks = (tmp_path / "BENCHMARKS" / "index.html").read_text()
    # `make bench`'s plots come in a light and a dark file; Material shows the one of the
    # reader's theme only when the site has a palette (the attribute its CSS keys on)
    assert 'data-md-color-scheme="default"' in benchmarks
    for plot in ("tablet", "latency"):
        assert f'src="../benchmarks/{plot}.svg#gh-light-mode-only"' in benchmarks
        assert f'src="../benchmarks/{plot}-dark.svg#gh-dark-mode-only"' in benchmarks


def test_configuration_reference_lists_every_key_of_the_schema():
    schema = load_schema()
    page = render(schema)
    keys = schema_keys(schema)
    assert len(keys) > 40
    assert documented_keys(page) == keys


def _anchors(page: Path) -> set:
    fence = False
    anchors = set()
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            anchors.add(slugify(line.lstrip("#").strip(), "-"))
    return anchors


def test_readme_is_short_and_its_links_resolve():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    for target in LINK.findall(README.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        page = ROOT / path
        assert page.exists(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in _anchors(page), f"README links to {target}: no such heading"


def test_every_key_of_the_reference_has_a_type_a_default_and_an_example():
    for line in render(load_schema()).splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            _key, kind, default, _range, meaning, example = cells
            assert kind and default and meaning and example, f"incomplete row: {line}"
