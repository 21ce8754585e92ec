"""The Docker engine through the docker CLI (build output streams as progress lines).

Builds use the classic builder (DOCKER_BUILDKIT=0): Debian's docker.io has no buildx, and
the classic builder honours --platform when binfmt emulation is registered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO, Callable, Sequence

from spx_tools.commands import require_tool, run
from spx_tools.errors import PackagingError


def docker() -> str:
    """Path of the docker CLI, or PackagingError naming the package."""
    return require_tool("docker", "apt-get install docker.io")


def unavailable_reason() -> str | None:
    """None when a Docker engine answers, else a one-line reason (for skips and errors)."""
    try:
        cli = docker()
    except PackagingError as error:
        return str(error)
    result = subprocess.run([cli, "info", "--format", "{{.ServerVersion}}"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker engine answers ({detail}); start dockerd or run tools/provision.sh"
    return None


def require_engine() -> None:
    """Raise PackagingError when no Docker engine answers."""
    reason = unavailable_reason()
    if reason is not None:
        raise PackagingError(reason)


def image_inspect(ref: str) -> dict | None:
    """`docker image inspect` of `ref` as a dict, or None when the image is not present."""
    result = subprocess.run([docker(), "image", "inspect", ref], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]


def image_id(ref: str) -> str | None:
    """The image id (sha256:...) of `ref`, or None when not present."""
    info = image_inspect(ref) if ref else None
    return None if info is None else info["Id"]


def build(context: Path, *, dockerfile: Path, tag: str, arch: str,
          build_args: dict[str, str], on_line: Callable[[str], None],
          no_cache: bool = False) -> None:
    """Build `context` with `dockerfile` into `tag` for linux/`arch` (classic builder)."""
    args = [docker(), "build", "--platform", f"linux/{arch}", "--pull=false", "--force-rm",
            "-f", str(dockerfile), "-t", tag]
    if no_cache:
        args.append("--no-cache")
    for key, value in sorted(build_args.items()):
        args += ["--build-arg", f"{key}={value}"]
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    run([*args, str(context)], what="docker build", on_line=on_line, env=env)


def save(tag: str) -> subprocess.Popen:
    """Start `docker save tag`; the caller reads the archive from .stdout and waits."""
    return subprocess.Popen([docker(), "save", tag], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def load(stream: IO[bytes]) -> str:
    """`docker load` an image archive (gzip or not) read from `stream`; return its report."""
    with subprocess.Popen([docker(), "load", "-q"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            shutil.copyfileobj(stream, proc.stdin, 1 << 20)
        finally:
            proc.stdin.close()
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.wait()
    if proc.returncode != 0:
        raise PackagingError(f"docker load failed: {err.decode(errors='replace').strip()}")
    return out.decode().strip()


def run_image(tag: str, args: Sequence[str], *, arch: str,
              docker_args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run `tag` once with `args` (removed afterwards); returns the completed process."""
    return subprocess.run([docker(), "run", "--rm", "--platform", f"linux/{arch}",
                           *docker_args, tag, *args], capture_output=True, text=True,
                          check=False)
