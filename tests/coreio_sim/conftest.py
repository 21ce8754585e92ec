"""Fixtures for the installer tests: hand-made .spx files and a tiny real Docker image."""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
import uuid
from pathlib import Path
from typing import Callable, Dict

import pytest
import yaml
from coreio_spx_factory import manifest_dict, tiny_rootfs_files, write_spx

from coreio_sim.docker_cli import engine_unavailable_reason

SpxFactory = Callable[..., Path]


@pytest.fixture
def make_spx(tmp_path: Path) -> SpxFactory:
    """Build a .spx: ``make_spx(manifest=..., compose=..., extra={...}, image=bytes)``."""

    def factory(
        manifest: dict | None = None,
        compose: dict | None = None,
        extra: Dict[str, bytes] | None = None,
        image: bytes = b"not really an image",
        file_name: str = "",
    ) -> Path:
        manifest = manifest if manifest is not None else manifest_dict()
        compose = compose or {"services": {"tiny": {"image": "tiny:1"}}}
        files = {
            "manifest.json": json.dumps(manifest).encode(),
            "docker-compose.yml": yaml.safe_dump(compose).encode(),
            "icon.png": b"\x89PNG",
            "99-tiny.rules": b'SUBSYSTEM=="video4linux", SYMLINK+="tiny_cam"\n',
        }
        for archive in manifest.get("images", []):
            files[archive] = image
        files.update(extra or {})
        name = file_name or f"{manifest.get('extension_name', 'x')}-{uuid.uuid4().hex[:6]}.spx"
        return write_spx(tmp_path / name, files)

    return factory


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip (with the reason) when no Docker engine can be reached."""
    reason = engine_unavailable_reason()
    if reason:
        pytest.skip(f"no Docker engine: {reason}")


@pytest.fixture(scope="session")
def tiny_image_archive(docker_engine, tmp_path_factory) -> Callable[[str], bytes]:
    """``archive(tag)`` -> gzip ``docker save`` bytes of a tiny local image tagged ``tag``.

    The image is imported from a handful of host files (sh, sleep, cat and libc), so no
    registry is needed. Images made here are removed at the end of the session.
    """
    rootfs = tmp_path_factory.mktemp("tiny") / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        for path in tiny_rootfs_files():
            tar.add(str(Path(path).resolve()), arcname=path.lstrip("/"))
    made = []

    def archive(tag: str) -> bytes:
        subprocess.run(
            ["docker", "import", "--change", 'CMD ["/bin/sleep", "infinity"]', str(rootfs), tag],
            check=True,
            capture_output=True,
        )
        made.append(tag)
        saved = subprocess.run(["docker", "save", tag], check=True, capture_output=True).stdout
        subprocess.run(["docker", "image", "rm", tag], check=True, capture_output=True)
        return gzip.compress(saved, compresslevel=1)

    yield archive
    for tag in made:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, check=False)
