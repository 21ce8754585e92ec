"""The build's size and time figures, written by the build into a marked section of
docs/install.md (between ``<!-- build-figures:start -->`` and ``<!-- build-figures:end -->``),
so the documented figures are the last measured ones, never typed by hand."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from spx_tools import paths
from spx_tools.build import BuildOptions, BuildResult

START = "<!-- build-figures:start -->"
END = "<!-- build-figures:end -->"
DOC = paths.REPO_ROOT / "docs" / "install.md"
MIB = 1024 * 1024


def figures_markdown(result: BuildResult, options: BuildOptions) -> str:
    """The section's text: conditions, then one row per figure."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    base = "--local-base" if options.local_base else (options.base_image or "default base")
    cache = "--no-cache" if options.no_cache else "layer cache allowed"
    rows = [("image, unpacked", f"{result.image_bytes / MIB:.1f} MiB"),
            ("image archive (gzip)", f"{result.archive_bytes / MIB:.1f} MiB"),
            (".spx", f"{result.spx_bytes / MIB:.1f} MiB")]
    rows += [(f"step {name}".replace("|", "\\|"), f"{seconds:.0f} s")
             for name, seconds in result.timings.items()]
    rows.append(("total (wall clock)", f"{result.total_seconds:.0f} s"))
    lines = [f"Last build written by `build_extension.py build` on "
             f"{time.strftime('%Y-%m-%d', time.gmtime())}: {options.arch}, {base}, {cache}; "
             f"host {platform.machine()} with {os.cpu_count()} cores, load average {load} "
             "at its end.",
             "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def write_figures(result: BuildResult, options: BuildOptions, doc: Path = DOC) -> bool:
    """Replace the marked section of `doc`; False (nothing written) when it has no markers."""
    if not doc.is_file():
        return False
    text = doc.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{figures_markdown(result, options)}\n{END}{tail}")
    return True
