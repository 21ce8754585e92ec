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
