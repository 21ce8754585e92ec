"""Read `docker save` archives (gzip-compressed or not) without Docker, in one streaming pass.

Handles the classic layout (<id>.json config, <id>/layer.tar) and the OCI layout of newer
engines (blobs/sha256/...), both described by the top-level manifest.json.
"""

from __future__ import annotations

import hashlib
import io
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
    # sha256 over every layer's entries (names, modes, owners, file times, file bytes), in
    # manifest order; "" unless inspect(..., digest=True). Equal digests = equal file trees,
    # whatever the image ids and creation times. Directory times are left out: the classic
    # builder stamps the folders a COPY creates with the build time.
    content_digest: str = ""

    @property
    def loadable(self) -> bool:
        return not self.problems and bool(self.images)


def inspect(stream: IO[bytes], name: str, digest: bool = False) -> ArchiveInfo:
    """Read the archive `name` from `stream` (gzip detected from the name) in one pass;
    with `digest`, also hash the content of every layer (slower: reads all layers)."""
    info = ArchiveInfo()
    layer_digests: dict[str, str] = {}
    mode = "r|gz" if name.endswith((".gz", ".tgz")) else "r|"
    small: dict[str, bytes] = {}
    present: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode=mode) as archive:
            for member in archive:
                path = member.name.lstrip("./") if member.name != "." else "."
                present.add(path)
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None:
                    continue
                if member.size <= SMALL_MEMBER:
                    small[path] = handle.read()
                    handle = io.BytesIO(small[path])
                if digest:
                    layer_digests[path] = layer_digest(handle)
    except (tarfile.TarError, OSError, EOFError) as exc:
        info.problems.append(f"not a readable {mode[2:] or 'tar'} archive ({exc})")
        return info
    _read_manifest(small, present, info)
    if digest and not info.problems:
        total = hashlib.sha256()
        for entry in json.loads(small["manifest.json"]):
            for layer in entry.get("Layers", []):
                total.update(layer_digests.get(layer, "").encode())
        info.content_digest = total.hexdigest()
    return info


def layer_digest(stream: IO[bytes]) -> str:
    """sha256 of a layer tar's entries in order; "" when the member is not a tar."""
    total = hashlib.sha256()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as layer:
            for entry in layer:
                mtime = 0 if entry.isdir() else int(entry.mtime)
                total.update(f"{entry.name}\0{entry.type!r}\0{entry.mode}\0{entry.uid}\0"
                             f"{entry.gid}\0{mtime}\0{entry.linkname}\0".encode())
                handle = layer.extractfile(entry) if entry.isfile() else None
                if handle is not None:
                    for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                        total.update(chunk)
    except tarfile.TarError:
        return ""
    return total.hexdigest()


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
