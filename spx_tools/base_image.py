"""Make a Debian base image locally with debootstrap: no registry, found again in the engine.

The image is what the Dockerfile's BASE_IMAGE build argument names in tests and CI (and for
integrators without Docker Hub). It holds a minimal Debian (minbase) plus python3; its Python
version decides which wheels are downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from spx_tools import docker_engine
from spx_tools.commands import require_tool, run
from spx_tools.emulation import ensure_emulation
from spx_tools.errors import PackagingError
from spx_tools.locking import exclusive
from spx_tools.paths import cache_dir
from spx_tools.progress import Progress

SUITE = "bookworm"
PACKAGES = ("python3",)
# Removed from the root file system: documentation and package caches nobody reads at run time.
PRUNED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
          "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf")


@dataclass(frozen=True)
class BaseImage:
    """A base image present in the local engine and the Python version inside it."""

    tag: str
    python_version: str  # "3.11"
    image_id: str


def base_tag(arch: str) -> str:
    """Tag of the locally made base image for `arch`."""
    return f"spot-camera-base:{SUITE}-{arch}"


def apt_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt uses on this host (first non-security URI).

    Raises ``PackagingError`` when the host's apt sources name none (pass a mirror instead).
    """
    files = [sources_dir / "sources.list"]
    files += sorted((sources_dir / "sources.list.d").glob("*"))
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri in re.findall(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.M):
            if "debian" in uri and "security" not in uri:
                return uri
    raise PackagingError(f"no Debian mirror found in {sources_dir}/sources.list*: "
                         "give one with --mirror URL")


RECIPE_LABEL = "org.spot-camera.base-recipe"
PYTHON_LABEL = "org.spot-camera.python-version"


def recipe_digest(arch: str) -> str:
    """Hash of everything that decides the base image's content (suite, packages, pruned
    folders, architecture, the import Dockerfile). The image carries it as a label, so any
    clone on this machine finds the image in the engine without a marker file of its own."""
    recipe = {"suite": SUITE, "packages": list(PACKAGES), "pruned": list(PRUNED),
              "arch": arch, "dockerfile": ROOTFS_DOCKERFILE}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def cached_base(arch: str) -> BaseImage | None:
    """The base image in the engine if it was made from today's recipe, else None."""
    info = docker_engine.image_inspect(base_tag(arch))
    labels = ((info or {}).get("Config") or {}).get("Labels") or {}
    if info is None or labels.get(RECIPE_LABEL) != recipe_digest(arch):
        return None
    return BaseImage(base_tag(arch), labels.get(PYTHON_LABEL, ""), info["Id"])


def _python_version(rootfs: Path) -> str:
    names = sorted(p.name for p in (rootfs / "usr" / "bin").glob("python3.*")
                   if re.fullmatch(r"python3\.\d+", p.name))
    if not names:
        raise PackagingError(f"no python3 in the debootstrapped tree {rootfs}; "
                             "check the debootstrap log above")
    return names[-1][len("python"):]


def make_base_image(arch: str = "arm64", *, mirror: str | None = None,
                    progress: Progress | None = None, force: bool = False) -> BaseImage:
    """Return the local base image for `arch`, making it with debootstrap when not cached."""
    progress = progress or Progress()
    with exclusive(f"base-image-{arch}", progress.info):
        return _make_base_image(arch, mirror, progress, force)


def _make_base_image(arch: str, mirror: str | None, progress: Progress,
                     force: bool) -> BaseImage:
    if not force:
        cached = cached_base(arch)
        if cached is not None:
            progress.info(f"base image {cached.tag} cached (Python {cached.python_version})")
            return cached
    if os.geteuid() != 0:
        raise PackagingError("making the base image needs root (debootstrap); run as root "
                             "or pass --base-image with an existing image")
    require_tool("debootstrap", "apt-get install debootstrap")
    note = ensure_emulation(arch)  # debootstrap's second stage runs arm64 programs
    if note.startswith("enabled"):
        progress.info(note)  # "already registered" was said by the build's first step
    mirror = mirror or apt_mirror()
    rootfs = cache_dir() / "base-image" / f"rootfs-{arch}"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    tag = base_tag(arch)
    try:
        with progress.step(f"debootstrap {SUITE} ({arch}, minbase + python3) from {mirror}"):
            run(["debootstrap", f"--arch={arch}", "--variant=minbase",
                 f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror],
                what="debootstrap", on_line=_debootstrap_line(progress))
            for rel in PRUNED:
                target = rootfs / rel
                if target.is_dir():
                    shutil.rmtree(target)
                    target.mkdir(parents=True)
            python_version = _python_version(rootfs)
        with progress.step(f"import the root file system as {tag}"):
            image_id = _import_rootfs(rootfs, arch, tag, python_version)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return BaseImage(tag, python_version, image_id)


def _debootstrap_line(progress: Progress):
    def show(line: str) -> None:
        if line.startswith(("I: Retrieved", "I: Validating", "I: Base system installed",
                            "I: Configuring python3", "E:", "W:")):
            progress.info(line)
    return show


ROOTFS_DOCKERFILE = """FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["python3"]
"""


def _import_rootfs(rootfs: Path, arch: str, tag: str, python_version: str) -> str:
    """Build the tree into `tag` FROM scratch for linux/`arch`; return the image id.

    (`docker import --platform` is ignored by some engines, which would label the image
    with the host's architecture; a FROM scratch build records the requested one.)
    """
    context = rootfs.parent / f"context-{arch}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    try:
        run(["tar", "-C", str(rootfs), "--numeric-owner", "--sort=name", "-cf",
             str(context / "rootfs.tar"), "."], what="tar of the root file system")
        labels = (f'LABEL {RECIPE_LABEL}="{recipe_digest(arch)}" '
                  f'{PYTHON_LABEL}="{python_version}"\n')
        (context / "Dockerfile").write_text(ROOTFS_DOCKERFILE + labels)
        docker_engine.build(context, dockerfile=context / "Dockerfile", tag=tag, arch=arch,
                            build_args={}, on_line=lambda line: None)
    finally:
        shutil.rmtree(context, ignore_errors=True)
    image_id = docker_engine.image_id(tag)
    if image_id is None:
        raise PackagingError(f"the build did not create {tag}; see dockerd's log")
    return image_id
