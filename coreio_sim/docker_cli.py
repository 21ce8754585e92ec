"""The Docker and Docker Compose commands the installer runs, through their command-line clients.

The CLI is used (not the Python SDK) because Compose has no Python API and ``docker load``
streams large archives from disk. Every failure becomes an ``InstallError`` with the
command's last error line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Sequence

from coreio_sim.errors import InstallError

#: Docker refuses journald logging unless this socket exists (journald running).
JOURNALD_SOCKET = Path("/run/systemd/journal/socket")


def run(args: Sequence[str], what: str) -> str:
    """Run ``args``; return stdout, or raise ``InstallError`` naming ``what`` failed and why."""
    try:
        proc = subprocess.run(list(args), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise InstallError(f"{what}: {args[0]} is not installed") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line]
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        raise InstallError(f"{what} failed: {reason}")
    return proc.stdout


def check_engine() -> None:
    """Raise ``InstallError`` unless a Docker engine answers."""
    run(["docker", "version", "--format", "{{.Server.Version}}"], "reaching the Docker engine")


def daemon_log_driver() -> str:
    """The engine's default logging driver (what a service without ``logging:`` gets)."""
    return run(["docker", "info", "--format", "{{.LoggingDriver}}"], "docker info").strip()


def journald_available() -> bool:
    """True if this host runs journald, so Docker's journald log driver can work."""
    return JOURNALD_SOCKET.exists()


def compose_command() -> List[str]:
    """``docker compose`` if the plugin is present, else ``docker-compose``; else raise."""
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise InstallError(
        "no Docker Compose found: install the docker compose plugin or Debian's docker-compose"
    )


def project_name(extension_name: str) -> str:
    """The compose project name for an extension (lower case, as every Compose accepts)."""
    return re.sub(r"[^a-z0-9_-]", "", extension_name.lower())


def compose(project: str, files: Sequence[Path], args: Sequence[str], what: str) -> str:
    """Run a compose command for ``project`` with the compose ``files`` in order."""
    command = [*compose_command(), "-p", project]
    for path in files:
        command += ["-f", str(path)]
    return run(command + list(args), what)


def load_image(archive: Path) -> List[str]:
    """``docker load`` an image archive (gzip or plain tar); return the loaded image tags."""
    out = run(["docker", "load", "--input", str(archive)], f"loading image {archive.name}")
    prefix = "Loaded image"
    return [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith(prefix)]


def remove_image(reference: str) -> bool:
    """Remove an image by tag if no container uses it; False if it could not be removed."""
    proc = subprocess.run(
        ["docker", "image", "rm", reference], capture_output=True, text=True, check=False
    )
    return proc.returncode == 0


def project_containers(project: str) -> List[str]:
    """IDs of all containers (running or not) of a compose project."""
    out = run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        "listing containers",
    )
    return out.split()


def container_states(project: str) -> List[str]:
    """``name: status`` lines for the containers of a compose project."""
    out = run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--format",
            "{{.Names}}: {{.Status}}",
        ],
        "listing containers",
    )
    return [line for line in out.splitlines() if line]


def engine_unavailable_reason() -> str:
    """Empty if a Docker engine answers; else one line saying why not (for test skips)."""
    try:
        check_engine()
    except InstallError as exc:
        return str(exc)
    return ""
