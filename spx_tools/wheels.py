"""Download the pinned runtime wheels for the target Python and platform, on the host.

The image build then installs them with --no-index: no network inside the build, and the
same wheels every time. Downloads are cached in <cache>/wheels/<key>/ where the key hashes
the requirements, the target and the pip version; a marker file lists every wheel's sha256.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

from spx_tools.commands import run
from spx_tools.errors import PackagingError
from spx_tools.paths import cache_dir

# pip itself, as a wheel, installs the others in base images that have no pip
# (the debootstrapped base); 25.0.x is the last line that still runs on Python 3.8.
PIP_PIN = "pip==25.0.1"
MARKER = "wheels.json"
_MACHINE = {"arm64": "aarch64", "amd64": "x86_64"}
# manylinux 2.17 (2014) up to 2.28: runs on L4T R32 (glibc 2.27) and newer with these pins.
_MANYLINUX = ("manylinux2014_{m}", "manylinux_2_17_{m}", "manylinux_2_28_{m}")


def platform_tags(arch: str) -> list[str]:
    """pip --platform values for a Docker architecture name ('arm64', 'amd64')."""
    try:
        machine = _MACHINE[arch]
    except KeyError:
        raise PackagingError(f"unsupported architecture {arch!r}; use arm64 or amd64") from None
    return [tag.format(m=machine) for tag in _MANYLINUX]


def pinned_names(requirements: Path) -> dict[str, str]:
    """{normalized name: version} of the `name==version` lines; other lines raise."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(requirements.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)\s*==\s*([A-Za-z0-9.+!-]+)", line)
        if match is None:
            raise PackagingError(f"{requirements}:{number}: '{line}' is not pinned; write "
                                 "name==version")
        pins[normalize(match.group(1))] = match.group(2)
    return pins


def normalize(name: str) -> str:
    """PEP 503 name normalization (also matches wheel file name prefixes)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_project(filename: str) -> tuple[str, str]:
    """(normalized project name, version) of a wheel file name."""
    parts = filename.split("-")
    return normalize(parts[0]), parts[1]


def cache_key(requirements: Path, python_version: str, arch: str) -> str:
    """Hash of everything that decides which wheels are downloaded."""
    digest = hashlib.sha256()
    for part in (requirements.read_bytes(), python_version.encode(), arch.encode(),
                 PIP_PIN.encode(), " ".join(platform_tags(arch)).encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached(directory: Path) -> dict[str, str] | None:
    try:
        listed = json.loads((directory / MARKER).read_text())["wheels"]
    except (OSError, ValueError, KeyError):
        return None
    present = {p.name for p in directory.glob("*.whl")}
    if present != set(listed) or any(_sha256(directory / n) != h for n, h in listed.items()):
        return None
    return listed


def fetch_wheels(requirements: Path, python_version: str, arch: str,
                 info=print) -> Path:
    """Return a directory holding every pinned wheel (plus pip) for the target.

    Raises PackagingError when pip cannot find a wheel (with pip's reason) or when the
    resolution pulls in a package that requirements does not pin.
    """
    if not re.fullmatch(r"3\.\d+", python_version):
        raise PackagingError(f"python version {python_version!r} is not X.Y (e.g. 3.11)")
    pins = pinned_names(requirements)
    directory = cache_dir() / "wheels" / f"{arch}-py{python_version}-" \
        f"{cache_key(requirements, python_version, arch)}"
    listed = _cached(directory)
    if listed is not None:
        info(f"{len(listed)} wheels cached in {directory}")
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    target = ["--only-binary=:all:", "--python-version", python_version,
              "--implementation", "cp", "--disable-pip-version-check", "-d", str(directory)]
    for tag in platform_tags(arch):
        target += ["--platform", tag]
    info(f"pip download for CPython {python_version} linux/{arch} into {directory}")
    run([sys.executable, "-m", "pip", "download", "-q", *target, "-r", str(requirements)],
        what="pip download of the runtime wheels")
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *target, PIP_PIN],
        what="pip download of pip")
    unpinned = sorted(f"{name}=={version}" for name, version in
                      (wheel_project(p.name) for p in directory.glob("*.whl"))
                      if name != "pip" and pins.get(name) != version)
    if unpinned:
        raise PackagingError(f"{requirements.name} does not pin {', '.join(unpinned)}; add "
                             "these lines so builds stay reproducible")
    wheels = {p.name: _sha256(p) for p in sorted(directory.glob("*.whl"))}
    (directory / MARKER).write_text(json.dumps({"python_version": python_version,
                                                "arch": arch, "wheels": wheels}, indent=2))
    return directory
