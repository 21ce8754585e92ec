"""Deterministic .spx writing (sorted members, fixed owner and time, gzip without a time
stamp) with parallel compression, and one-pass reading of a .spx.

Compression uses `pigz` (parallel gzip, `-n`: no name or time stamp) when installed, else
Python's gzip module on one core with mtime 0. Either way the same input gives the same bytes
(the two tools' outputs differ from each other).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Iterator, Mapping, Sequence

from spx_tools import image_archive
from spx_tools.errors import PackagingError

CHUNK = 1024 * 1024
IMAGE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
# Members larger than this (other than image archives) are not kept in memory when reading.
SMALL_FILE = 16 * 1024 * 1024


def compressor_name() -> str:
    """'pigz (N threads)' or 'python gzip (1 thread)': what compress() will use."""
    if shutil.which("pigz"):
        return f"pigz ({os.cpu_count() or 1} threads)"
    return "python gzip (1 thread; install pigz for parallel compression)"


def compress(source: IO[bytes], target: Path, level: int = 6) -> None:
    """Gzip everything read from `source` into `target` (pigz when present)."""
    pigz = shutil.which("pigz")
    with open(target, "wb") as out:
        if pigz:
            proc = subprocess.Popen([pigz, "-n", f"-{level}", "-p", str(os.cpu_count() or 1),
                                     "-c"], stdin=subprocess.PIPE, stdout=out)
            assert proc.stdin is not None
            try:
                shutil.copyfileobj(source, proc.stdin, CHUNK)
            finally:
                proc.stdin.close()
            if proc.wait() != 0:
                raise PackagingError(f"pigz failed while writing {target}")
            return
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=level,
                           mtime=0) as zipped:
            shutil.copyfileobj(source, zipped, CHUNK)


# The service's user in the image and the compose file (uid and gid 1000): it owns the
# folders the extension writes at run time (the settings page saves config/config.yaml and
# keeps its certificate there). Extracted as root, a tar keeps member owners.
SERVICE_UID = 1000


def _info(name: str, size: int, epoch: int, directory: bool = False,
          owner: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = size, epoch
    info.uid = info.gid = owner
    info.uname = info.gname = "root" if owner == 0 else "camera"
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    return info


def write_spx(target: Path, files: Mapping[str, Path], epoch: int, level: int = 1,
              service_owned: Sequence[str] = ()) -> None:
    """Write `files` ({name in the .spx: source path}) as a gzip tar, deterministically:
    sorted names, parent folders listed, owner root (`SERVICE_UID` for the folders named in
    `service_owned` and what they hold), mtime `epoch`, mode 0644 / 0755.

    The image archives inside are already compressed, so the outer level defaults to 1.
    """
    directories = sorted({str(p) for name in files for p in PurePosixPath(name).parents
                          if str(p) != "."})

    def owner_of(name: str) -> int:
        owned = any(name == folder or name.startswith(folder + "/") for folder in service_owned)
        return SERVICE_UID if owned else 0

    read, write = os.pipe()
    with open(read, "rb") as reader, open(write, "wb") as writer:
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                with tarfile.open(fileobj=writer, mode="w|", format=tarfile.GNU_FORMAT) as tar:
                    for name in directories:
                        tar.addfile(_info(name + "/", 0, epoch, directory=True,
                                          owner=owner_of(name)))
                    for name in sorted(files):
                        path = files[name]
                        with open(path, "rb") as handle:
                            tar.addfile(_info(name, path.stat().st_size, epoch,
                                              owner=owner_of(name)), handle)
            except BaseException as exc:  # reported by the consumer thread
                failure.append(exc)
            finally:
                writer.close()

        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        compress(reader, target, level)
        thread.join()
        if failure:
            raise PackagingError(f"writing {target} failed: {failure[0]}")


@dataclass
class SpxContents:
    """What a .spx holds: small files in memory, image archives inspected while streaming."""

    files: dict[str, bytes] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    archives: dict[str, image_archive.ArchiveInfo] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def is_image_archive(name: str) -> bool:
    """Top-level members with these suffixes are image archives."""
    return "/" not in name and name.endswith(IMAGE_SUFFIXES)


def read_spx(path: Path) -> SpxContents:
    """Read a .spx in one pass; raise PackagingError when it is not a gzip tar."""
    contents = SpxContents()
    try:
        with tarfile.open(path, mode="r|*") as spx:
            for member in spx:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if not member.isfile():
                    continue
                contents.names.add(name)
                contents.sizes[name] = member.size
                handle = spx.extractfile(member)
                if handle is None:
                    continue
                if is_image_archive(name):
                    contents.archives[name] = image_archive.inspect(handle, name)
                elif member.size <= SMALL_FILE:
                    contents.files[name] = handle.read()
    except FileNotFoundError:
        raise PackagingError(f"{path} does not exist") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackagingError(f"{path} is not a .spx (gzip-compressed tar): {exc}") from None
    return contents


@contextlib.contextmanager
def open_member(spx: Path, name: str) -> Iterator[IO[bytes]]:
    """The member `name` of a .spx as a readable stream (e.g. an image archive to load)."""
    with tarfile.open(spx, mode="r|*") as tar:
        for member in tar:
            if member.name in (name, f"./{name}") and member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                yield handle
                return
    raise PackagingError(f"{spx} has no member {name}")


def tar_bytes(files: Mapping[str, bytes], epoch: int = 0) -> bytes:
    """An uncompressed tar of in-memory files (sorted, fixed metadata); used for fixtures."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(files):
            tar.addfile(_info(name, len(files[name]), epoch), io.BytesIO(files[name]))
    return buffer.getvalue()
