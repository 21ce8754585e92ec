"""Memory limits: the container's memory limit and the figures derived from it.

The limit is ``service.memory_limit_mib`` when set, else the cgroup's (v2 ``memory.max``,
v1 ``memory.limit_in_bytes``, the smallest along the process's cgroup path), else
``DEFAULT_LIMIT_MIB`` (the extension's compose limit). ``BudgetLimits`` derives from it the
room for images in flight, per response, per decoded frame and the images per request; the
serving stage (``serving.budget``) and the capture stage (``capture.frame_budget``) both
enforce them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional

MIB = 1024 * 1024
DEFAULT_LIMIT_MIB = 512
BASELINE_MIB = 160  # the idle service: Python, gRPC, OpenCV, the SDK, a few frames
RESPONSE_COPIES = 3
# where the limit came from when nothing sets one: the process is not actually limited
ASSUMED_LIMIT = "the default (no cgroup limit found)"
GRPC_MESSAGE_BYTES = 64 * MIB
_UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge number
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# -- the limit -------------------------------------------------------------------------------
def _read_limit(path: str) -> Optional[int]:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read(64).strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.isdigit():
        return None  # "max" (v2 unlimited) or garbage
    value = int(text)
    return value if 0 < value < _UNLIMITED else None


def _cgroup_paths(proc_cgroup: str) -> List[tuple]:
    """(version, path) pairs from ``/proc/self/cgroup``: v2 ``0::/p``, v1 ``N:memory:/p``."""
    try:
        with open(proc_cgroup, encoding="utf-8") as handle:
            lines = handle.read(65536).splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            found.append((2, parts[2]))
        elif "memory" in parts[1].split(","):
            found.append((1, parts[2]))
    return found


def cgroup_memory_limit(root: str = "/sys/fs/cgroup",
                        proc_cgroup: str = "/proc/self/cgroup") -> Optional[int]:
    """The memory limit (bytes) of this process's cgroup, or None when there is none.

    Checks the process's cgroup and every ancestor (a limit on a parent applies too), for
    v2 (``memory.max``) and v1 (``memory/memory.limit_in_bytes``); the smallest wins. Inside
    a container the path is usually ``/``, which is covered.
    """
    limits = []
    for version, path in _cgroup_paths(proc_cgroup) or [(2, "/"), (1, "/")]:
        base = root if version == 2 else os.path.join(root, "memory")
        name = "memory.max" if version == 2 else "memory.limit_in_bytes"
        parts = [p for p in path.split("/") if p and p != ".."]
        for depth in range(len(parts), -1, -1):
            value = _read_limit(os.path.join(base, *parts[:depth], name))
            if value is not None:
                limits.append(value)
    return min(limits) if limits else None


# -- the budget ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetLimits:
    """The figures derived from one memory limit (all bytes)."""

    memory_limit: int
    in_flight_bytes: int
    request_bytes: int
    frame_bytes: int
    max_images: int

    @classmethod
    def from_limit(cls, memory_limit: int, max_images: int = 32) -> BudgetLimits:
        """Everything above ``BASELINE_MIB`` is the working room; half of it goes to image
        output in flight (the rest: cache, frames, allocator slack). One frame decoded may
        take at most the in-flight room (it has to be decoded inside it)."""
        room = max(32 * MIB, memory_limit - BASELINE_MIB * MIB)
        in_flight = room // 2
        request = min(GRPC_MESSAGE_BYTES - MIB, in_flight // RESPONSE_COPIES)
        return cls(memory_limit, in_flight, request, frame_bytes=in_flight // 2,
                   max_images=max_images)


def resolve_limit(configured_mib: int) -> tuple:
    """(limit bytes, where it came from) for ``service.memory_limit_mib`` (0 = auto)."""
    if configured_mib > 0:
        return configured_mib * MIB, "service.memory_limit_mib"
    found = cgroup_memory_limit()
    if found is not None:
        return found, "the container's cgroup limit"
    return DEFAULT_LIMIT_MIB * MIB, ASSUMED_LIMIT


def private_resident_bytes(statm: str = "/proc/self/statm") -> int:
    """This process's own resident memory now (resident minus file-backed and shared pages,
    i.e. what it allocated), 0 where ``/proc`` is absent. About 10 us per call."""
    try:
        with open(statm, encoding="ascii") as handle:
            fields = handle.read(256).split()
        return max(0, int(fields[1]) - int(fields[2])) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def headroom_bytes(memory_limit: int) -> int:
    """What the measured gate leaves free below the limit (allocator slack, copies the
    accounting does not see, a frame arriving): 1/12 of it, at least 32 MiB."""
    return max(32 * MIB, memory_limit // 12)


def mib_text(nbytes: int) -> str:
    """Bytes as MiB for messages (one decimal below 10 MiB)."""
    return f"{nbytes / MIB:.0f}" if nbytes >= 10 * MIB else f"{nbytes / MIB:.1f}"
