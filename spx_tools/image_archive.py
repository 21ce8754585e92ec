"""Read `docker save` archives (gzip-compressed or not) without Docker, in one streaming pass.

Handles the classic layout (<id>.json config, <id>/layer.tar) and the OCI layout of newer
engines (blobs/sha256/...), both described by the top-level manifest.json.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from typing import IO

# Members up to this size are kept in memory (manifests and image configs are a few KiB).
SMALL_MEMBER = 4 * 1024 * 1024


@dataclass(frozen=True)
class ImageConfig:
    """The facts of one image in an archive."""

    tags: tuple[str, ...]
    architecture: str
    os: str
    user: str


@dataclass
class ArchiveInfo:
    """What an archive holds; `problems` lists why it would not load (empty when loadable)."""

    images: list[ImageConfig] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def loadable(self) -> bool:
        return not self.problems and bool(self.images)


def inspect(stream: IO[bytes], name: str) -> ArchiveInfo:
    """Read the archive `name` from `stream` (gzip detected from the name) in one pass."""
    info = ArchiveInfo()
    mode = "r|gz" if name.endswith((".gz", ".tgz")) else "r|"
    small: dict[str, bytes] = {}
    present: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode=mode) as archive:
            for member in archive:
                path = member.name.lstrip("./") if member.name != "." else "."
                present.add(path)
                if member.isfile() and member.size <= SMALL_MEMBER:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        small[path] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        info.problems.append(f"not a readable {mode[2:] or 'tar'} archive ({exc})")
        return info
    _read_manifest(small, present, info)
    return info


def _read_manifest(small: dict[str, bytes], present: set[str], info: ArchiveInfo) -> None:
    if "manifest.json" not in small:
        info.problems.append("no manifest.json: not a `docker save` archive")
        return
    try:
        entries = json.loads(small["manifest.json"])
    except ValueError:
        info.problems.append("manifest.json is not valid JSON")
        return
    if not isinstance(entries, list) or not entries:
        info.problems.append("manifest.json lists no image")
        return
    for entry in entries:
        config_name = str(entry.get("Config", ""))
        missing = [layer for layer in entry.get("Layers", []) if layer not in present]
        if missing:
            info.problems.append(f"layer {missing[0]} listed in manifest.json is missing")
        try:
            config = json.loads(small[config_name])
        except (KeyError, ValueError):
            info.problems.append(f"image config {config_name!r} is missing or not JSON")
            continue
        tags = tuple(entry.get("RepoTags") or ())
        if not tags:
            info.problems.append("an image has no tag (RepoTags): compose cannot reference it; "
                                 "save it by tag (docker save name:tag)")
        info.images.append(ImageConfig(
            tags=tags, architecture=str(config.get("architecture", "")),
            os=str(config.get("os", "")),
            user=str((config.get("config") or {}).get("User") or "")))
