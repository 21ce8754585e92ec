"""What `build` puts into the .spx and how build_or_reuse keys its cache (no Docker)."""

from __future__ import annotations

import json
from pathlib import Path

from spx_tools import build, paths


def test_spx_holds_manifest_compose_archive_icon_udev_and_config(tmp_path: Path):
    archive, manifest = tmp_path / "spot_camera_service.tar.gz", tmp_path / "manifest.json"
    archive.write_bytes(b"x")
    manifest.write_bytes(b"{}")
    files = build._spx_files(archive, manifest)
    template = json.loads(paths.MANIFEST_TEMPLATE.read_text())
    assert set(files) == {"manifest.json", "docker-compose.yml", archive.name, template["icon"],
                          template["udev_rules"], "config/config.yaml"}
    assert template["images"] == [archive.name]


def test_inputs_digest_depends_on_target_and_base():
    digest = build.inputs_digest("arm64", "sha256:1")
    assert digest == build.inputs_digest("arm64", "sha256:1")
    assert digest != build.inputs_digest("amd64", "sha256:1")
    assert digest != build.inputs_digest("arm64", "sha256:2")


def test_inputs_digest_follows_the_service_sources(tmp_path: Path, monkeypatch):
    package = tmp_path / "camera_service"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(paths, "SERVICE_PACKAGE", package)
    before = build.inputs_digest("arm64", "b")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.pyc").write_bytes(b"ignored")
    assert build.inputs_digest("arm64", "b") == before
    (package / "a.py").write_text("x = 2\n")
    assert build.inputs_digest("arm64", "b") != before


def test_old_cached_packages_are_pruned(tmp_path: Path):
    import os
    import time

    folders = []
    # ages: two old folders, then four recent ones (key2, 20 min, is past the newest three
    # but young enough that a parallel session may still be using it)
    for index, age in enumerate((6 * 3600, 5 * 3600, 1200, 900, 600, 300)):
        folder = tmp_path / f"key{index}"
        folder.mkdir()
        (folder / "spot_camera_service-0.1.0-arm64.spx").write_bytes(b"x")
        os.utime(folder, (time.time() - age, time.time() - age))
        folders.append(folder)
    other = tmp_path / "amd" / "spot_camera_service-0.1.0-amd64.spx"
    other.parent.mkdir()
    other.write_bytes(b"x")
    os.utime(other.parent, (0, 0))
    build._prune_cache(tmp_path, "arm64", keep=folders[5])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["amd", "key2", "key3", "key4", "key5"]
