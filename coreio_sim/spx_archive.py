"""Reading and unpacking a ``.spx`` file (a gzip-compressed tar with everything at its top level).

``SpxArchive.open(path)`` validates the archive before anything is touched on disk: a
readable gzip tar, only regular files and folders, no path leaving the archive, a valid
``manifest.json``, a ``docker-compose.yml``, and the manifest's ``images`` matching the image
archives in the file exactly (as the CORE I/O portal requires). ``unpack(dest)`` then
extracts it.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, Tuple

from coreio_sim.errors import InstallError
from coreio_sim.manifest import Manifest, parse_manifest

COMPOSE_FILE = "docker-compose.yml"
MANIFEST_FILE = "manifest.json"
_IMAGE_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class SpxArchive:
    """A validated .spx: its path, manifest and member names (normalised, no ``./``)."""

    path: Path
    manifest: Manifest
    members: Tuple[str, ...]

    @classmethod
    def open(cls, path: Path) -> SpxArchive:
        """Read and validate ``path``; raise ``InstallError`` naming the first problem."""
        path = Path(path)
        if not path.is_file():
            raise InstallError(f"{path}: no such .spx file")
        try:
            with tarfile.open(path, "r:gz") as tar:
                members = _checked_members(path, tar)
                manifest = _read_manifest(path, tar, members)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InstallError(f"{path}: not a gzip-compressed tar (.spx): {exc}") from None
        names = tuple(sorted(members))
        _check_contents(path, manifest, names)
        return cls(path=path, manifest=manifest, members=names)

    def unpack(self, dest: Path) -> None:
        """Extract every member into ``dest`` (created; must not exist yet)."""
        dest.mkdir(parents=True)
        with tarfile.open(self.path, "r:gz") as tar:
            for member in tar.getmembers():
                name = _normalised(member.name)
                if not name:
                    continue
                target = dest / name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    _keep_owner(target, member)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - regular files always have data
                    raise InstallError(f"{self.path}: cannot read member {member.name!r}")
                with source, open(target, "wb") as out:
                    while True:
                        chunk = source.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
                target.chmod(0o755 if member.mode & 0o111 else 0o644)
                _keep_owner(target, member)


def _keep_owner(target: Path, member: tarfile.TarInfo) -> None:
    """Extracting as root, give ``target`` the member's owner, as ``tar`` does as root (the
    extension's saved folders belong to its service user)."""
    if os.geteuid() == 0 and (member.uid or member.gid):
        os.chown(target, member.uid, member.gid)


def _normalised(name: str) -> str:
    parts = [part for part in PurePosixPath(name).parts if part not in (".", "")]
    return "/".join(parts)


def _checked_members(path: Path, tar: tarfile.TarFile) -> Dict[str, tarfile.TarInfo]:
    members: Dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        name = _normalised(member.name)
        if not name:
            continue
        if PurePosixPath(member.name).is_absolute() or ".." in PurePosixPath(name).parts:
            raise InstallError(f"{path}: member {member.name!r} would leave the extension folder")
        if not (member.isfile() or member.isdir()):
            raise InstallError(
                f"{path}: member {member.name!r} is a link or special file; only plain files"
                " and folders are allowed"
            )
        members[name] = member
    return members


def _read_manifest(
    path: Path, tar: tarfile.TarFile, members: Dict[str, tarfile.TarInfo]
) -> Manifest:
    member = members.get(MANIFEST_FILE)
    if member is None or not member.isfile():
        raise InstallError(f"{path}: no {MANIFEST_FILE} at the top level of the .spx")
    handle = tar.extractfile(member)
    if handle is None:  # pragma: no cover - regular files always have data
        raise InstallError(f"{path}: cannot read {MANIFEST_FILE}")
    with handle:
        try:
            data = json.loads(handle.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InstallError(f"{path}: {MANIFEST_FILE} is not valid JSON: {exc}") from None
    return parse_manifest(data)


def _check_contents(path: Path, manifest: Manifest, names: Tuple[str, ...]) -> None:
    top_level = {name for name in names if "/" not in name}
    if COMPOSE_FILE not in top_level:
        raise InstallError(f"{path}: no {COMPOSE_FILE} at the top level of the .spx")
    archives = {name for name in top_level if name.endswith(_IMAGE_ARCHIVE_SUFFIXES)}
    listed = set(manifest.images)
    if listed != archives:
        missing = sorted(listed - archives)
        extra = sorted(archives - listed)
        raise InstallError(
            f"{path}: manifest 'images' must match the image archives in the .spx exactly"
            f" (listed but absent: {missing or 'none'}; present but unlisted: {extra or 'none'})"
        )
    for key, value in (("icon", manifest.icon), ("udev_rules", manifest.udev_rules)):
        if value and value not in top_level:
            raise InstallError(f"{path}: manifest {key} {value!r} is not in the .spx")


def installed_manifest(path: Path) -> Manifest | None:
    """The manifest of an installed extension, or None if ``path`` is missing or unreadable."""
    try:
        return parse_manifest(json.loads(path.read_text()))
    except (OSError, ValueError, InstallError):
        return None
