"""Builders of synthetic packaging inputs for the packaging tests (no Docker needed)."""

from __future__ import annotations

import gzip
import json
from typing import Dict

from spx_tools import manifest, paths
from spx_tools.archive import tar_bytes

OUR_TAG = "spot_camera_service:0.1.0"
OUR_ARCHIVE = "spot_camera_service.tar.gz"


def image_archive(tags=(OUR_TAG,), arch: str = "arm64", user: str = "1000:1000",
                  drop_layer: bool = False, compress: bool = True) -> bytes:
    """A minimal `docker save` archive (classic layout) of one image."""
    config = {"architecture": arch, "os": "linux", "config": {"User": user},
              "rootfs": {"type": "layers", "diff_ids": []}}
    layer = tar_bytes({"hello.txt": b"hello\n"})
    files = {"abc123.json": json.dumps(config).encode(),
             "manifest.json": json.dumps([{"Config": "abc123.json", "RepoTags": list(tags),
                                           "Layers": ["l1/layer.tar"]}]).encode()}
    if not drop_layer:
        files["l1/layer.tar"] = layer
    data = tar_bytes(files)
    return gzip.compress(data, mtime=0) if compress else data


def our_files() -> Dict[str, bytes]:
    """The files of our .spx as the build writes them, with a synthetic image archive."""
    template = json.loads(paths.MANIFEST_TEMPLATE.read_text())
    files = {
        "manifest.json": manifest.render(template, version="0.1.0",
                                         date="2026-11-20T00:00:00Z", images=[OUR_ARCHIVE]),
        "docker-compose.yml": paths.COMPOSE_FILE.read_bytes(),
        OUR_ARCHIVE: image_archive(),
        "icon.png": (paths.EXTENSION_DIR / "icon.png").read_bytes(),
        "70-spot-camera-service.rules":
            (paths.EXTENSION_DIR / "70-spot-camera-service.rules").read_bytes(),
        "config/config.yaml": (paths.EXTENSION_DIR / "config" / "config.yaml").read_bytes(),
    }
    return files
