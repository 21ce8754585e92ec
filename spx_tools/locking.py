"""Cross-process locks for the shared caches (two test sessions building at once)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from spx_tools.paths import cache_dir


@contextlib.contextmanager
def exclusive(name: str, on_wait: Callable[[str], None] = print,
              machine_wide: bool = False) -> Iterator[None]:
    """Hold the lock `<cache>/locks/<name>.lock`; tells `on_wait` when it has to wait.

    `machine_wide` locks live in the temp folder instead, for what every cache shares: the
    one Docker engine (an image tag must not move between `docker build` and `docker save`).
    """
    folder = Path(tempfile.gettempdir()) / f"spx_tools-locks-{os.geteuid()}" if machine_wide \
        else cache_dir() / "locks"
    path = folder / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"waiting for another build holding {path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
