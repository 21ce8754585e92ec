"""The memory budget: how much image output the service may hold at once, from the
container's memory limit.

The limit is ``service.memory_limit_mib`` when set, else the cgroup's (v2 ``memory.max``,
v1 ``memory.limit_in_bytes``, the smallest along the process's cgroup path), else
``DEFAULT_LIMIT_MIB`` (the extension's compose limit). From it:

- ``in_flight_bytes``: the memory all GetImage calls together may hold for their images
  (decode/resize working memory while an image is produced, the response's bytes until the
  call has ended - counted ``RESPONSE_COPIES`` times: the message, its serialization and
  gRPC's send buffer). A call waits up to ``MAX_WAIT_SECONDS`` (or its deadline) for room,
  never longer; an image that does not fit then is refused.
- ``request_bytes``: the output one GetImage response may carry (below the gRPC message
  limit, so an image that would push it over is refused instead of the whole RPC failing).
- ``max_images``: image requests answered per GetImage; the rest are refused.
- ``frame_bytes``: the decoded size of one camera frame (declared width x height x 3), checked
  at capture before anything decodes it.

Refusals raise ``OverBudget`` (a ``RequestRejected`` with ``STATUS_IMAGE_DATA_ERROR``) whose
message names the limit and the setting that raises it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

from bosdyn.api import image_pb2

from camera_service.imaging.request_resolution import RequestRejected
from camera_service.pipeline.encoding import OutputSpec

_LOG = logging.getLogger(__name__)
MIB = 1024 * 1024
DEFAULT_LIMIT_MIB = 512
BASELINE_MIB = 160  # the idle service: Python, gRPC, OpenCV, the SDK, a few frames
RESPONSE_COPIES = 3
MAX_WAIT_SECONDS = 2.0
GRPC_MESSAGE_BYTES = 64 * MIB
_UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a huge number
_CHANNELS = {"rgb": 3, "grey": 1, "rgba": 4, "grey16": 2, "depth16": 2}  # bytes per pixel


class OverBudget(RequestRejected):
    """An image refused because serving it would pass a memory limit."""

    def __init__(self, message: str) -> None:
        super().__init__(image_pb2.ImageResponse.STATUS_IMAGE_DATA_ERROR, message)


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
    return DEFAULT_LIMIT_MIB * MIB, "the default (no cgroup limit found)"


def output_bytes(spec: OutputSpec) -> int:
    """Upper estimate of the bytes ``spec`` produces (RAW: exact; JPEG: half of RAW RGB,
    corrected once the real size is known)."""
    raw = spec.width * spec.height * _CHANNELS.get(spec.layout, 3)
    return raw if spec.format == "raw" else max(1024, raw // 2)


def working_bytes(frame_width: int, frame_height: int, spec: OutputSpec,
                  passthrough: bool, decode: bool = True) -> int:
    """Transient memory for producing ``spec``: the decoded frame (when the frame is a JPEG,
    ``decode``), the resized copy, and the JPEG encoder's buffer."""
    if passthrough:
        return 0
    work = frame_width * frame_height * 3 if decode else 0
    if (spec.width, spec.height) != (frame_width, frame_height):
        work += spec.width * spec.height * 3
    if spec.format == "jpeg":
        work += spec.width * spec.height * 3 // 2
    return work


class MemoryBudget:
    """The shared in-flight account (thread-safe). ``open_call()`` starts one GetImage's
    ``CallBudget``; its reservations return to the pool when the call ends."""

    def __init__(self, limits: BudgetLimits, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.limits = limits
        self.max_wait = max_wait
        self._cond = threading.Condition()
        self._used = 0
        self.peak = 0  # highest in-flight bytes seen (benchmarks)
        self.refused = 0  # images refused for memory (counters)

    @property
    def used(self) -> int:
        with self._cond:
            return self._used

    def open_call(self, time_remaining: Callable[[], Optional[float]] = lambda: None
                  ) -> CallBudget:
        return CallBudget(self, time_remaining)

    def _acquire(self, nbytes: int, wait: float) -> bool:
        deadline = time.monotonic() + max(0.0, wait)
        with self._cond:
            while self._used + nbytes > self.limits.in_flight_bytes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            self._used += nbytes
            self.peak = max(self.peak, self._used)
            return True

    def _release(self, nbytes: int) -> None:
        if nbytes <= 0:
            return
        with self._cond:
            self._used = max(0, self._used - nbytes)
            self._cond.notify_all()

    def _count_refusal(self) -> None:
        with self._cond:
            self.refused += 1


class CallBudget:
    """One GetImage call's share: images counted, response bytes summed, reservations held
    until ``close()`` (call it when the RPC has ended, e.g. from ``context.add_callback``).

    Per image: ``admit()`` (count), ``reserve(spec, ...)`` before producing it, then
    ``settle(reservation, actual_bytes)`` once its bytes exist. Each raises ``OverBudget``.
    """

    def __init__(self, budget: MemoryBudget, time_remaining: Callable[[], Optional[float]]):
        self._budget = budget
        self._time_remaining = time_remaining
        self._lock = threading.Lock()
        self._held = 0
        self._closed = False
        self.images = 0
        self.response_bytes = 0

    def admit(self) -> None:
        """Count one image request; refuse those past ``max_images``."""
        limit = self._budget.limits.max_images
        self.images += 1
        if self.images > limit:
            self._refuse(f"this request asks for more than {limit} images; at most {limit} "
                         "per GetImage are answered (service.max_images_per_request); send "
                         "the rest in another request")

    def reserve(self, spec: OutputSpec, frame_width: int, frame_height: int,
                passthrough: bool, known_bytes: Optional[int] = None,
                decode: bool = True) -> int:
        """Reserve memory for producing ``spec`` from a ``frame_width`` x ``frame_height``
        frame (a JPEG to decode when ``decode``); returns the reservation to ``settle``."""
        limits = self._budget.limits
        out = known_bytes if known_bytes is not None else output_bytes(spec)
        if spec.format == "raw" or known_bytes is not None:
            self._check_response(out)
        need = out * RESPONSE_COPIES + working_bytes(frame_width, frame_height, spec,
                                                     passthrough, decode)
        if need > limits.in_flight_bytes:
            self._refuse(f"a {spec.width}x{spec.height} {spec.format.upper()} image needs "
                         f"{mib_text(need)} MiB, more than the "
                         f"{mib_text(limits.in_flight_bytes)} MiB the service may use for "
                         "images (memory limit "
                         f"{mib_text(limits.memory_limit)} MiB, service.memory_limit_mib); "
                         "ask for JPEG or a smaller resize_ratio")
        remaining = self._time_remaining()
        wait = self._budget.max_wait if remaining is None else min(self._budget.max_wait,
                                                                     remaining)
        if not self._budget._acquire(need, wait):
            self._refuse(f"the service is at its memory budget for images "
                         f"({mib_text(limits.in_flight_bytes)} MiB in flight, memory limit "
                         f"{mib_text(limits.memory_limit)} MiB, service.memory_limit_mib); "
                         "retry shortly, or ask for fewer or smaller images")
        with self._lock:
            self._held += need
            closed = self._closed
        if closed:  # the call ended while we waited
            self._give_back(need)
        return need

    def settle(self, reservation: int, actual_bytes: int) -> None:
        """The image's bytes exist: keep ``actual_bytes`` x copies until the call ends,
        return the working memory and the estimate's excess. Raises ``OverBudget`` (after
        returning the reservation) when the response would pass ``request_bytes``."""
        keep = actual_bytes * RESPONSE_COPIES
        try:
            self._check_response(actual_bytes)
        except OverBudget:
            self._give_back(reservation)
            raise
        self._give_back(max(0, reservation - keep))
        self.response_bytes += actual_bytes

    def close(self) -> None:
        """The call has ended: every byte it held goes back to the pool. Idempotent."""
        with self._lock:
            held, self._held, self._closed = self._held, 0, True
        self._budget._release(held)

    def _check_response(self, nbytes: int) -> None:
        limit = self._budget.limits.request_bytes
        if self.response_bytes + nbytes > limit:
            self._refuse(f"this image ({mib_text(nbytes)} MiB) would take the response past "
                         f"{mib_text(limit)} MiB, the most one GetImage answers (gRPC message "
                         "and memory limits); ask for it in its own request, as JPEG or "
                         "with a smaller resize_ratio")

    def _give_back(self, nbytes: int) -> None:
        with self._lock:
            nbytes = min(nbytes, self._held)
            self._held -= nbytes
        self._budget._release(nbytes)

    def _refuse(self, message: str) -> None:
        self._budget._count_refusal()
        raise OverBudget(message)


def mib_text(nbytes: int) -> str:
    """Bytes as MiB for messages (one decimal below 10 MiB)."""
    return f"{nbytes / MIB:.0f}" if nbytes >= 10 * MIB else f"{nbytes / MIB:.1f}"
