"""The build writes its size and time figures into docs/install.md's marked section (not
by hand): the section exists, and writing replaces only what is between the markers."""

from __future__ import annotations

from pathlib import Path

from spx_tools.build import BuildOptions, BuildResult
from spx_tools.size_doc import DOC, END, START, write_figures

MIB = 1024 * 1024


def _result() -> BuildResult:
    return BuildResult(spx=Path("dist/x.spx"), image_tag="spot_camera_service:0.1.0",
                       image_bytes=296 * MIB, archive_bytes=96 * MIB, spx_bytes=int(96.1 * MIB),
                       timings={"engine and emulation": 1.0,
                                "save image: docker save | pigz": 20.4},
                       total_seconds=202.2)


def test_install_page_has_the_marked_section():
    text = DOC.read_text()
    assert text.count(START) == 1 and text.count(END) == 1
    assert text.index(START) < text.index(END)


def test_write_figures_replaces_only_the_marked_section(tmp_path):
    page = tmp_path / "install.md"
    page.write_text(f"before\n{START}\nold figures\n{END}\nafter\n")
    assert write_figures(_result(), BuildOptions(local_base=True), page)
    text = page.read_text()
    assert text.startswith("before\n") and text.endswith("after\n")
    assert "old figures" not in text
    assert "| image, unpacked | 296.0 MiB |" in text
    assert "| .spx | 96.1 MiB |" in text
    assert "| total (wall clock) | 202 s |" in text
    assert "--local-base" in text
    assert "| step save image: docker save \\| pigz | 20 s |" in text  # a | in a name escaped


def test_a_page_without_markers_is_left_alone(tmp_path):
    page = tmp_path / "install.md"
    page.write_text("no markers\n")
    assert not write_figures(_result(), BuildOptions(), page)
    assert page.read_text() == "no markers\n"
