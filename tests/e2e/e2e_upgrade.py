"""A newer version of a built .spx, for the upgrade scenario.

Rebuilding the arm64 image under emulation only to bump a number would cost minutes, so the
newer .spx is the built one with its manifest version's patch number raised: the installer
sees an upgrade of the same extension (stop, keep the manifest's files, unpack, load, start).
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NewerSpx:
    path: Path
    version: str


def newer_spx(spx: Path, folder: Path) -> NewerSpx:
    """Write ``folder/<name>-<version+1>.spx``: ``spx`` with the patch version raised."""
    with tarfile.open(spx, "r:gz") as source:
        manifest = json.loads(source.extractfile("manifest.json").read())
        major, minor, patch = (int(part) for part in manifest["version"].split("."))
        manifest["version"] = f"{major}.{minor}.{patch + 1}"
        target = folder / f"{manifest['extension_name']}-{manifest['version']}.spx"
        with tarfile.open(target, "w:gz", compresslevel=1) as out:
            for member in source.getmembers():
                if member.name.lstrip("./") == "manifest.json":
                    data = json.dumps(manifest, indent=2).encode()
                    member.size = len(data)
                    out.addfile(member, io.BytesIO(data))
                else:
                    out.addfile(member, source.extractfile(member) if member.isfile() else None)
    return NewerSpx(target, manifest["version"])
