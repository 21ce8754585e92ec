"""Benchmark plots as SVG files for the documentation site: one look for the site's light
theme and one for its dark theme, and the same bytes for the same figures.

- ``draw_themed(draw, path)`` calls ``draw(theme)`` once per theme (``LIGHT``, ``DARK``) and
  writes ``path`` (light) and ``<stem>-dark.svg`` beside it (``themed_paths``).
- ``reference(alt, relative)`` is the Markdown showing the pair: Material for MkDocs (and
  GitHub) hide ``#gh-dark-mode-only`` images in the light theme and ``#gh-light-mode-only``
  images in the dark theme, so each theme shows its own.
- Deterministic: no pyplot and no display (``matplotlib.figure.Figure``, Agg backend), text
  kept as SVG text (``svg.fonttype: none``: small, and its labels can be searched), hashed
  element ids (fixed ``svg.hashsalt``) numbered in order, no date in the metadata.
  Backgrounds are transparent, so a plot sits on the page's own colour.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import matplotlib

matplotlib.use("Agg")  # never a display backend, even if something imports pyplot

from matplotlib import rc_context
from matplotlib.figure import Figure

HASH_SALT = "spot-camera-bench"
RC = {"svg.fonttype": "none", "svg.hashsalt": HASH_SALT, "font.family": "sans-serif",
      "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],  # laid out in DejaVu Sans
      "font.size": 9.5, "axes.titlesize": 10.0, "legend.fontsize": 8.5,
      "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False}
METADATA: Dict[str, object] = {"Date": None}
HASHED_ID = re.compile(r'id="([a-z])([0-9a-f]{10})"')


@dataclass(frozen=True)
class Theme:
    """Colours for one documentation theme: ``text`` (labels, ticks, axes), ``grid``, and
    one colour per series (``colours`` keys: service, baseline, floor, idle, p50, p95,
    bound, bound2)."""

    name: str
    suffix: str
    text: str
    grid: str
    colours: Dict[str, str]


LIGHT = Theme("light", "", text="#1f2328", grid="#d0d7de", colours={
    "service": "#0969da", "baseline": "#bc4c00", "floor": "#6e7781", "idle": "#afb8c1",
    "p50": "#0969da", "p95": "#80b9f0", "bound": "#cf222e", "bound2": "#8250df"})
DARK = Theme("dark", "-dark", text="#e6edf3", grid="#3d444d", colours={
    "service": "#4493f8", "baseline": "#f0883e", "floor": "#9198a1", "idle": "#59636e",
    "p50": "#4493f8", "p95": "#1f5fae", "bound": "#ff7b72", "bound2": "#d2a8ff"})
THEMES: Tuple[Theme, ...] = (LIGHT, DARK)


def themed_paths(path: Path) -> List[Path]:
    """The file of each theme for the plot ``path`` (the light one is ``path`` itself)."""
    return [path.with_name(f"{path.stem}{theme.suffix}{path.suffix}") for theme in THEMES]


def reference(alt: str, relative: str) -> str:
    """Markdown showing the plot ``relative`` (a path from the page, light theme's file) in
    each theme's own colours."""
    light, dark = themed_paths(Path(relative))
    return (f"![{alt}]({light.as_posix()}#gh-light-mode-only)\n"
            f"![{alt}]({dark.as_posix()}#gh-dark-mode-only)")


def new_figure(theme: Theme, width: float, height: float) -> Figure:
    """An empty figure of ``width`` x ``height`` inches in ``theme``'s colours (call inside
    ``draw_themed``'s ``draw``, where the rc settings apply)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.patch.set_alpha(0.0)
    return figure


def style_axes(axes, theme: Theme) -> None:
    """Transparent axes, ``theme``'s text colour on spines, ticks and labels, a light grid
    behind the data along the value axis."""
    axes.set_facecolor("none")
    for spine in axes.spines.values():
        spine.set_color(theme.text)
    axes.tick_params(colors=theme.text, which="both")
    axes.xaxis.label.set_color(theme.text)
    axes.yaxis.label.set_color(theme.text)
    axes.title.set_color(theme.text)
    axes.set_axisbelow(True)


def style_legend(legend, theme: Theme) -> None:
    for text in legend.get_texts():
        text.set_color(theme.text)


def numbered_ids(svg: str) -> str:
    """``svg`` with matplotlib's hashed element ids (clip paths, markers: a letter and 10 hex
    digits, hashed from coordinates whose last bits vary between layouts of the same figure)
    renamed by order of appearance: ``p0``, ``p1``, ``m0`` ..."""
    renamed: Dict[str, str] = {}
    for kind, digest in HASHED_ID.findall(svg):
        counted = sum(name.startswith(kind) for name in renamed.values())
        renamed.setdefault(kind + digest, f"{kind}{counted}")
    return re.sub(r"\b[a-z][0-9a-f]{10}\b",
                  lambda match: renamed.get(match.group(0), match.group(0)), svg)


def write_svg(figure: Figure, path: Path) -> None:
    """Write ``figure`` to ``path`` as SVG: the same figure always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    with rc_context(RC):
        figure.savefig(out, format="svg", metadata=METADATA, transparent=True)
    path.write_text(numbered_ids(out.getvalue()), encoding="utf-8")


def draw_themed(draw: Callable[[Theme], Figure], path: Path) -> List[Path]:
    """Draw the plot once per theme and write each to its file; returns the files."""
    written = []
    for theme, target in zip(THEMES, themed_paths(path)):
        with rc_context(RC):
            figure = draw(theme)
        write_svg(figure, target)
        written.append(target)
    return written
