"""Build inputs without Docker: wheel pins and cache keys, mirror, project date, icon."""

from __future__ import annotations

from pathlib import Path

import pytest

from spx_tools import base_image, paths, project, wheels
from spx_tools.errors import PackagingError
from spx_tools.icon import draw


def test_runtime_requirements_pin_every_package():
    pins = wheels.pinned_names(paths.RUNTIME_REQUIREMENTS)
    assert {"bosdyn-client", "grpcio", "numpy", "opencv-python-headless", "pyyaml"} <= set(pins)


def test_unpinned_requirement_is_a_one_line_error(tmp_path):
    requirements = tmp_path / "r.txt"
    requirements.write_text("numpy==1.24.4\ngrpcio>=1.0\n")
    with pytest.raises(PackagingError, match=r"r.txt:2: 'grpcio>=1.0' is not pinned"):
        wheels.pinned_names(requirements)


def test_cache_key_follows_target_and_pins(tmp_path):
    requirements = tmp_path / "r.txt"
    requirements.write_text("numpy==1.24.4\n")
    key = wheels.cache_key(requirements, "3.11", "arm64")
    assert key == wheels.cache_key(requirements, "3.11", "arm64")
    assert key != wheels.cache_key(requirements, "3.8", "arm64")
    assert key != wheels.cache_key(requirements, "3.11", "amd64")
    requirements.write_text("numpy==1.26.4\n")
    assert key != wheels.cache_key(requirements, "3.11", "arm64")


def test_platform_tags_name_the_target_machine():
    assert all(tag.endswith("_aarch64") for tag in wheels.platform_tags("arm64"))
    with pytest.raises(PackagingError, match="unsupported architecture"):
        wheels.platform_tags("riscv64")


def test_wheel_names_map_to_pins():
    assert wheels.wheel_project("opencv_python_headless-4.10.0.84-cp37-abi3-x.whl") == \
        ("opencv-python-headless", "4.10.0.84")


@pytest.mark.parametrize("text, expected", [
    ("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n",
     "http://mirror.example/debian"),
    ("deb [arch=amd64] http://ftp.example/debian bookworm main\n", "http://ftp.example/debian"),
])
def test_apt_mirror_is_read_from_sources(tmp_path: Path, text, expected):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(text)
    assert base_image.apt_mirror(tmp_path) == expected


def test_apt_mirror_missing_names_the_fix(tmp_path: Path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "security.list").write_text(
        "deb http://mirror.example/debian-security bookworm-security main\n")
    with pytest.raises(PackagingError, match="--mirror"):
        base_image.apt_mirror(tmp_path)


def test_build_date_comes_from_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert project.iso_date(project.source_date_epoch()) == "2023-11-14T22:13:20Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(PackagingError, match="not a number"):
        project.source_date_epoch()


def test_build_date_defaults_to_the_last_commit(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert project.source_date_epoch() > 1_600_000_000


def test_committed_icon_is_the_drawn_icon():
    cv2 = pytest.importorskip("cv2")
    committed = cv2.imread(str(paths.EXTENSION_DIR / "icon.png"), cv2.IMREAD_UNCHANGED)
    drawn = draw()
    assert committed.shape == drawn.shape == (256, 256, 4)
    assert abs(committed.astype(int) - drawn.astype(int)).max() <= 2
    assert committed[0, 0, 3] == 0 and committed[128, 128, 3] == 255  # transparent corner
