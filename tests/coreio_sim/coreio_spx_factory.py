"""Hand-made .spx files for the installer tests (helpers imported by tests and conftest)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, List

#: Host programs a tiny test container runs; their shared libraries are found with ldd.
TINY_PROGRAMS = ("/bin/sh", "/bin/sleep", "/bin/cat")


def tiny_rootfs_files() -> List[str]:
    """The host files making a container that can run ``TINY_PROGRAMS`` (no registry)."""
    files = set(TINY_PROGRAMS)
    for program in TINY_PROGRAMS:
        out = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
        files.update(word for word in out.split() if word.startswith("/"))
    return sorted(files)


def manifest_dict(name: str = "tiny-ext", version: str = "1.0.0", **fields) -> dict:
    """A valid manifest for a .spx named ``name`` with one image archive ``image.tar.gz``."""
    data = {
        "extension_name": name,
        "version": version,
        "description": "installer test extension",
        "images": ["image.tar.gz"],
        "icon": "icon.png",
        "udev_rules": "99-tiny.rules",
        "installation_target": "spot",
        "date": "2026-11-20T12:00:00Z",
        "files_to_save": [],
        "directories_to_save": [],
    }
    data.update(fields)
    return data


def write_spx(path: Path, files: Dict[str, bytes]) -> Path:
    """Write a gzip tar holding ``files`` (name -> content) at its top level."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return path
