"""Project facts the package is stamped with: version and a reproducible build date."""

from __future__ import annotations

import datetime
import os
import re
import subprocess

from spx_tools.errors import PackagingError
from spx_tools.paths import REPO_ROOT


def project_version() -> str:
    """`version` of [project] in pyproject.toml."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    project = text.split("[project]", 1)[-1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', project, re.M)
    if match is None:
        raise PackagingError("pyproject.toml has no [project] version; add version = \"X.Y.Z\"")
    return match.group(1)


def source_date_epoch() -> int:
    """Build time in seconds: $SOURCE_DATE_EPOCH, else the last git commit's time, else 0.

    Using the commit time (not the clock) makes two builds of one commit identical.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value:
        if not value.isdigit():
            raise PackagingError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds")
        return int(value)
    try:
        result = subprocess.run(["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%ct"],
                                capture_output=True, text=True, check=False)
    except OSError:  # no git (e.g. building from a source archive)
        return 0
    stamp = result.stdout.strip()
    return int(stamp) if result.returncode == 0 and stamp.isdigit() else 0


def iso_date(epoch: int) -> str:
    """ISO-8601 UTC time of `epoch`, e.g. 2026-11-20T23:27:00Z."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
