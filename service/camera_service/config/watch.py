"""Notices hand edits of the config file (e.g. over SSH) so they apply without a restart.

``FileWatcher(path, on_change)`` checks the file's content every ``interval`` seconds in a
daemon thread and calls ``on_change()`` when its SHA-256 differs from the last one seen. A
file being written is picked up once it has settled (same digest on two checks in a row,
``UNFINISHED_CHECKS`` when its last line has no newline yet - a writer cut off mid-line), so
a half-written file is not applied; an emptied one is refused by the reader
(``yaml_file.EmptyConfig``) and the running config kept. ``mark_seen()`` records the current
content as seen (the service's own saves call it after applying).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Callable, Union

_LOG = logging.getLogger(__name__)
UNFINISHED_CHECKS = 5  # same content this many checks in a row when it ends mid-line


def digest(path: Path) -> str | None:
    """SHA-256 of the file's content, None when it cannot be read."""
    found = _read(path)
    return found[0] if found is not None else None


def _read(path: Path):
    """(SHA-256, whether the content ends mid-line) of the file, None when unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest(), bool(data) and not data.endswith(b"\n")


class FileWatcher:
    def __init__(self, path: Union[str, Path], on_change: Callable[[], None],
                 interval: float = 1.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self._on_change = on_change
        self._seen = digest(self.path)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(self.interval + 1.0)

    def mark_seen(self) -> None:
        with self._lock:
            self._seen = digest(self.path)

    def _run(self) -> None:
        candidate, same = None, 0
        while not self._stopping.wait(self.interval):
            found = _read(self.path)
            current = found[0] if found is not None else None
            with self._lock:
                changed = current is not None and current != self._seen
            if not changed:
                candidate, same = None, 0
                continue
            if current != candidate:  # wait one more check: the writer may not be done
                candidate, same = current, 1
                continue
            same += 1
            if found[1] and same < UNFINISHED_CHECKS:
                continue  # ends mid-line: give a slow writer more time
            candidate, same = None, 0
            with self._lock:
                self._seen = current
            _LOG.info("config file %s changed; applying it", self.path)
            try:
                self._on_change()
            except Exception:
                _LOG.exception("applying the changed config file failed")
