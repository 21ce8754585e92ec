"""A memory cgroup for one process under test: the container's memory limit without a
container, plus its peak usage and OOM kills.

cgroup v1 (``/sys/fs/cgroup/memory``, this machine) or v2 (``/sys/fs/cgroup`` with the
memory controller); needs root. ``MemoryCgroup.available()`` says whether one can be made;
without one the tests measure the process's peak private resident memory instead
(``RssSampler``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path
from typing import Optional

import psutil

V1_ROOT = Path("/sys/fs/cgroup/memory")
V2_ROOT = Path("/sys/fs/cgroup")


class MemoryCgroup:
    """A fresh cgroup limited to ``limit_bytes``; ``add(pid)`` moves a process (and its
    memory) in; ``peak()`` / ``reset_peak()``; ``oom_kills()``; ``remove()`` at the end."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.v1 = (V1_ROOT / "memory.limit_in_bytes").exists()
        parent = self._own_parent()
        self.path = parent / f"camera-test-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        if self.v1:
            self._write("memory.move_charge_at_immigrate", "3", missing_ok=True)
            self._write("memory.limit_in_bytes", str(limit_bytes))
            self._write("memory.memsw.limit_in_bytes", str(limit_bytes), missing_ok=True)
        else:
            self._write("memory.max", str(limit_bytes))
            self._write("memory.swap.max", "0", missing_ok=True)

    @staticmethod
    def available() -> bool:
        if os.geteuid() != 0:
            return False
        if (V1_ROOT / "memory.limit_in_bytes").exists():
            return os.access(V1_ROOT, os.W_OK)
        controllers = V2_ROOT / "cgroup.controllers"
        return controllers.exists() and "memory" in controllers.read_text().split()

    def _own_parent(self) -> Path:
        if self.v1:
            return V1_ROOT
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return V2_ROOT / line[3:].lstrip("/")
        return V2_ROOT

    def _write(self, name: str, value: str, missing_ok: bool = False) -> None:
        try:
            (self.path / name).write_text(value)
        except OSError:
            if not missing_ok:
                raise

    def add(self, pid: int) -> None:
        self._write("cgroup.procs", str(pid))

    def usage(self) -> int:
        name = "memory.usage_in_bytes" if self.v1 else "memory.current"
        return int((self.path / name).read_text())

    def peak(self) -> Optional[int]:
        name = "memory.max_usage_in_bytes" if self.v1 else "memory.peak"
        try:
            return int((self.path / name).read_text())
        except (OSError, ValueError):
            return None

    def reset_peak(self) -> None:
        with contextlib.suppress(OSError):
            self._write("memory.max_usage_in_bytes" if self.v1 else "memory.peak", "0")

    def oom_kills(self) -> int:
        if self.v1:
            text = (self.path / "memory.oom_control").read_text()
            fields = dict(line.split() for line in text.splitlines() if line.strip())
            return int(fields.get("oom_kill", 0))
        events = (self.path / "memory.events").read_text().split()
        return int(events[events.index("oom_kill") + 1]) if "oom_kill" in events else 0

    def remove(self) -> None:
        """Move any process left back to the parent and delete the cgroup."""
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self.path.parent / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.path.rmdir()


def private_resident_bytes(pid: int) -> int:
    """The process's own resident memory: anonymous pages plus shared memory (``RssAnon``
    + ``RssShmem``). File pages (the libraries, mapped read-only and shared with every other
    process that loaded them, this test runner included) are left out: the kernel reads
    them back when it needs the room, and a cgroup charges them to whoever touched them
    first, so counting them would charge the service for the test runner's OpenCV."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(("RssAnon:", "RssShmem:")):
                name, value, _unit = line.split()
                fields[name] = int(value) * 1024
    return fields.get("RssAnon:", 0) + fields.get("RssShmem:", 0)


class RssSampler:
    """Samples a process's private resident memory (``private_resident_bytes``) every
    ``interval`` seconds; ``peak`` since the last ``reset``, and ``rss_peak`` (all resident
    pages, shared libraries included) for the record. Works without a cgroup."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self._pid = pid
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self.rss_peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        self.peak = max(self.peak, private_resident_bytes(self._pid))
        self.rss_peak = max(self.rss_peak, self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sample()
            except (OSError, psutil.Error):
                return

    def reset(self) -> None:
        self.peak = self.rss_peak = 0
        self._sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
