"""The `build` command: wheels -> image -> compressed archive -> .spx -> check.

`build_or_reuse()` is the entry point for the end-to-end tests: it returns a .spx built from
the current inputs, reusing the one in <cache>/spx/<inputs hash>/ when nothing changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml

from spx_tools import archive, docker_engine, image_archive, manifest, paths
from spx_tools.base_image import make_base_image
from spx_tools.check import check_spx
from spx_tools.emulation import ensure_emulation
from spx_tools.errors import PackagingError
from spx_tools.findings import Finding, has_errors
from spx_tools.locking import exclusive
from spx_tools.progress import Progress
from spx_tools.project import iso_date, project_version, source_date_epoch
from spx_tools.wheels import fetch_wheels

DEFAULT_BASE_IMAGE = "python:3.11-slim-bookworm"
DEFAULT_PYTHON = "3.11"
CONFIG_DIR = "config"


@dataclass
class BuildOptions:
    """What to build. `local_base` makes the base image with debootstrap (no registry)."""

    arch: str = "arm64"
    base_image: str | None = None
    local_base: bool = False
    python_version: str | None = None
    output: Path | None = None
    run_check: bool = True
    no_cache: bool = False  # rebuild every image layer (cold build; determinism checks)


@dataclass
class BuildResult:
    """What a build produced, and its figures."""

    spx: Path
    image_tag: str
    image_bytes: int
    archive_bytes: int
    spx_bytes: int
    timings: dict[str, float]
    total_seconds: float = 0.0  # wall clock of the whole build
    content_digest: str = ""
    findings: list[Finding] = field(default_factory=list)
    check_passed: bool = True

    def summary(self) -> str:
        """Human summary: sizes and the time of each step."""
        mib = 1024 * 1024
        lines = [f"wrote {self.spx}",
                 f"  image {self.image_tag}: {self.image_bytes / mib:.1f} MiB unpacked, "
                 f"{self.archive_bytes / mib:.1f} MiB compressed; "
                 f".spx {self.spx_bytes / mib:.1f} MiB",
                 f"  image content sha256 {self.content_digest}",
                 "  " + ", ".join(f"{k.split(' ')[0]} {v:.0f} s" for k, v in
                                  self.timings.items()),
                 f"  total {self.total_seconds:.0f} s (wall clock)"]
        return "\n".join(lines)


def compose_image(compose_file: Path) -> str:
    """The one `image:` of the committed compose file (the tag the build must produce)."""
    compose = yaml.safe_load(compose_file.read_text())
    images = {s.get("image") for s in (compose.get("services") or {}).values()}
    if len(images) != 1 or None in images:
        raise PackagingError(f"{compose_file.name} must have exactly one service image; "
                             f"found {sorted(map(str, images))}")
    return images.pop()


def extension_name() -> str:
    """extension_name of the committed manifest.json."""
    return json.loads(paths.MANIFEST_TEMPLATE.read_text())["extension_name"]


def _stage_context(wheels: Path, arch: str, progress: Progress) -> Path:
    """A small build context: Dockerfile, wheels, pins and the service package only
    (one folder per build process, so parallel builds do not meet)."""
    context = paths.cache_dir() / "spx" / f"context-{arch}-{os.getpid()}"
    shutil.rmtree(context, ignore_errors=True)
    (context / "requirements").mkdir(parents=True)
    shutil.copy2(paths.DOCKERFILE, context / "Dockerfile")
    shutil.copy2(paths.RUNTIME_REQUIREMENTS, context / "requirements" / "runtime.txt")
    shutil.copytree(wheels, context / "wheels", ignore=shutil.ignore_patterns("*.json"))
    shutil.copytree(paths.SERVICE_PACKAGE, context / "camera_service",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    progress.info(f"build context {context}")
    return context


def _resolve_base(options: BuildOptions, progress: Progress) -> tuple[str, str]:
    """(base image reference, its Python X.Y)."""
    if options.local_base:
        base = make_base_image(options.arch, progress=progress)
        if options.python_version and options.python_version != base.python_version:
            raise PackagingError(f"the local base has Python {base.python_version}; drop "
                                 f"--python-version {options.python_version}")
        return base.tag, base.python_version
    return (options.base_image or DEFAULT_BASE_IMAGE,
            options.python_version or DEFAULT_PYTHON)


def _spx_files(archive_path: Path, manifest_path: Path) -> dict[str, Path]:
    """{name in the .spx: source file} of everything the .spx holds."""
    template = json.loads(paths.MANIFEST_TEMPLATE.read_text())
    files = {"manifest.json": manifest_path, "docker-compose.yml": paths.COMPOSE_FILE,
             archive_path.name: archive_path}
    for key in ("icon", "udev_rules"):
        if template.get(key):
            files[template[key]] = paths.EXTENSION_DIR / template[key]
    for path in sorted((paths.EXTENSION_DIR / CONFIG_DIR).rglob("*")):
        if path.is_file():
            files[path.relative_to(paths.EXTENSION_DIR).as_posix()] = path
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise PackagingError(f"missing packaging input {missing[0]}")
    return files


def _image_tag() -> tuple[str, str, str]:
    """(extension name, version, image tag); the compose file must use that tag."""
    version, name = project_version(), extension_name()
    tag = compose_image(paths.COMPOSE_FILE)
    if tag != f"{name}:{version}":
        raise PackagingError(f"docker-compose.yml uses image {tag!r} but this build makes "
                             f"'{name}:{version}'; update the image line")
    return name, version, tag


def build_spx(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Run the whole build; raises PackagingError on the first failing step."""
    progress = progress or Progress()
    name, version, tag = _image_tag()
    epoch = source_date_epoch()
    output = options.output or paths.REPO_ROOT / "dist" / f"{name}-{version}.spx"
    work = output.parent / f".{output.name}.work"
    with progress.step("engine and emulation"):
        docker_engine.require_engine()
        progress.info(ensure_emulation(options.arch))
    with progress.step("base image"):
        base, python_version = _resolve_base(options, progress)
        progress.info(f"BASE_IMAGE={base} (Python {python_version})")
    with progress.step(f"wheels for CPython {python_version} linux/{options.arch}"):
        wheels = fetch_wheels(paths.RUNTIME_REQUIREMENTS, python_version, options.arch,
                              info=progress.info)
        context = _stage_context(wheels, options.arch, progress)
    build_args = {"BASE_IMAGE": base, "PYTHON_VERSION": python_version,
                  "SOURCE_DATE_EPOCH": str(epoch), "VERSION": version}
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive_path = work / f"{name}.tar.gz"
    # The tag is shared by every build on this engine (arm64, amd64, other checkouts): hold
    # it from `docker build` to `docker save` so the archive holds this build's image.
    with exclusive(f"docker-tag-{tag.replace(':', '_')}", progress.info, machine_wide=True):
        image_bytes = _build_image(context, tag, build_args, options, progress)
        with progress.step(f"save image: docker save | {archive.compressor_name()}"):
            _save_compressed(tag, archive_path)
            with open(archive_path, "rb") as stream:
                digest = image_archive.inspect(stream, archive_path.name, digest=True)
            progress.info(f"image content sha256 {digest.content_digest}")
    with progress.step("write .spx"):
        _write_package(output, archive_path, version, epoch)
    result = BuildResult(spx=output, image_tag=tag, image_bytes=image_bytes,
                         archive_bytes=archive_path.stat().st_size,
                         spx_bytes=output.stat().st_size, timings=progress.timings,
                         content_digest=digest.content_digest)
    shutil.rmtree(work, ignore_errors=True)
    if options.run_check:
        with progress.step(f"check {output.name}"):
            result.findings = check_spx(output, expected_arch=options.arch)
            for finding in result.findings:
                progress.info(finding.line())
            result.check_passed = not has_errors(result.findings)
    result.total_seconds = progress.total_seconds
    return result


def _build_image(context: Path, tag: str, build_args: dict[str, str],
                 options: BuildOptions, progress: Progress) -> int:
    """docker build the staged context (removed afterwards); return the image size."""
    base = build_args["BASE_IMAGE"]
    base_is_local = docker_engine.image_id(base) is not None
    if not base_is_local:
        progress.info(f"{base} is not in the local engine: docker pulls it (no registry? "
                      "use --local-base)")
    with progress.step(f"build image {tag} (linux/{options.arch})"), \
            _hint_on_failure("" if base_is_local else
                             f"; pulling {base} failed? build with --local-base"):
        try:
            docker_engine.build(context, dockerfile=context / "Dockerfile", tag=tag,
                                arch=options.arch, on_line=_build_line(progress),
                                no_cache=options.no_cache, build_args=build_args)
        finally:
            shutil.rmtree(context, ignore_errors=True)
    return int((docker_engine.image_inspect(tag) or {}).get("Size", 0))


def _write_package(output: Path, archive_path: Path, version: str, epoch: int) -> None:
    """Render the manifest next to the archive and write the .spx."""
    manifest_path = archive_path.parent / "manifest.json"
    template = json.loads(paths.MANIFEST_TEMPLATE.read_text())
    manifest_path.write_bytes(manifest.render(template, version=version, date=iso_date(epoch),
                                              images=[archive_path.name]))
    output.parent.mkdir(parents=True, exist_ok=True)
    # The operator's saved folders are the service's to write (settings page, certificate).
    archive.write_spx(output, _spx_files(archive_path, manifest_path), epoch,
                      service_owned=template.get("directories_to_save", []))


@contextlib.contextmanager
def _hint_on_failure(hint: str) -> Iterator[None]:
    """Append `hint` to a PackagingError raised inside (keeps the error one line)."""
    try:
        yield
    except PackagingError as exc:
        raise PackagingError(f"{exc}{hint}") from None


def _build_line(progress: Progress):
    def show(line: str) -> None:
        if line.startswith(("Step ", "Successfully", "error", "ERROR")) or "error:" in line:
            progress.info(line if len(line) <= 96 else line[:93] + "...")
    return show


def _save_compressed(tag: str, target: Path) -> None:
    proc = docker_engine.save(tag)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        archive.compress(proc.stdout, target)
    finally:
        proc.stdout.close()
    if proc.wait() != 0:
        raise PackagingError(f"docker save {tag} failed: {proc.stderr.read().decode().strip()}")


def load_image(spx: Path) -> str:
    """`docker load` the image archive of `spx` and return its image id (sha256:...).

    Holds the tag lock so a parallel build cannot move the tag in between; use the returned
    id, not the tag, to run the image.
    """
    tag = compose_image(paths.COMPOSE_FILE)
    (name,) = archive.read_spx(spx).archives
    with exclusive(f"docker-tag-{tag.replace(':', '_')}", lambda _: None, machine_wide=True):
        with archive.open_member(spx, name) as stream:
            docker_engine.load(stream)
        image_id = docker_engine.image_id(tag)
    if image_id is None:
        raise PackagingError(f"docker load of {spx.name} did not create {tag}")
    return image_id


def inputs_digest(arch: str, base_id: str) -> str:
    """Hash of every input of the .spx: packaging files, pins, the service package (without
    bytecode caches), the target and the base image id."""
    digest = hashlib.sha256(f"{arch}\0{base_id}\0".encode())
    top = [paths.DOCKERFILE, paths.COMPOSE_FILE, paths.MANIFEST_TEMPLATE,
           paths.RUNTIME_REQUIREMENTS, paths.REPO_ROOT / "pyproject.toml"]
    groups = [(p.parent, [p]) for p in top]
    for folder in (paths.EXTENSION_DIR, paths.SERVICE_PACKAGE):
        groups.append((folder, sorted(p for p in folder.rglob("*") if p.is_file()
                                      and "__pycache__" not in p.parts)))
    for root, files in groups:
        for path in files:
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_or_reuse(arch: str = "arm64", progress: Progress | None = None) -> Path:
    """A checked .spx of the current sources for `arch`, built with the local base image.

    Cached in <cache>/spx/<inputs hash>/: a second call with unchanged inputs returns at
    once. Needs a Docker engine; raises PackagingError (one line) otherwise or when the
    build or its check fails.
    """
    progress = progress or Progress()
    docker_engine.require_engine()
    with exclusive(f"spx-{arch}", progress.info):
        return _build_or_reuse(arch, progress)


def _build_or_reuse(arch: str, progress: Progress) -> Path:
    base = make_base_image(arch, progress=progress)
    folder = paths.cache_dir() / "spx" / inputs_digest(arch, base.image_id)
    spx = folder / f"{extension_name()}-{project_version()}-{arch}.spx"
    if spx.is_file():
        progress.info(f"reusing {spx}")
        return spx
    start = time.monotonic()
    result = build_spx(BuildOptions(arch=arch, local_base=True, output=spx), progress)
    if not result.check_passed:
        spx.unlink()
        first = next(f for f in result.findings if f.level == "error")
        raise PackagingError(f"the built .spx fails check: {first.line()}")
    progress.info(f"built {spx} in {time.monotonic() - start:.0f} s")
    _prune_cache(spx.parent.parent, arch, keep=spx.parent)
    return spx


def _prune_cache(root: Path, arch: str, keep: Path, newest: int = 3,
                 min_age_s: float = 1800) -> None:
    """Drop cached .spx folders of `arch` beyond the `newest` few (each is ~90 MiB); a folder
    younger than `min_age_s` stays, since a parallel test session may be using it."""
    folders = sorted((p.parent for p in root.glob(f"*/*-{arch}.spx")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    now = time.time()
    for folder in folders[newest:]:
        if folder != keep and now - folder.stat().st_mtime > min_age_s:
            shutil.rmtree(folder, ignore_errors=True)
