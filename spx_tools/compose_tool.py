"""Validate a compose file with the compose tool when one is installed.

`docker compose` (plugin) is preferred, else `docker-compose` (v1, Debian's package). When
neither exists the caller relies on compose_rules alone.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from spx_tools.commands import last_line
from spx_tools.findings import Finding, error


def compose_command() -> list[str] | None:
    """The compose tool's command prefix, or None when none is installed."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                 check=False).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def validate(data: bytes, where: str = "docker-compose.yml") -> tuple[list[Finding], str]:
    """(findings, which tool ran) - the tool's `config -q` verdict on the compose file."""
    command = compose_command()
    if command is None:
        return [], "no compose tool installed: own rules only"
    with tempfile.TemporaryDirectory(prefix="spx-compose-") as folder:
        path = Path(folder) / "docker-compose.yml"
        path.write_bytes(data)
        result = subprocess.run([*command, "-f", str(path), "config", "-q"], cwd=folder,
                                capture_output=True, text=True, check=False)
    tool = " ".join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command))
    if result.returncode != 0:
        reason = last_line(result.stderr) or last_line(result.stdout)
        return [error("compose-schema", where, f"{tool} rejects it: {reason}")], tool
    return [], tool
