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
- the measured gate (when the budget is given ``measure``, as the service does when a limit
  exists - a cgroup's or a configured one; a process limited by nothing is not): an image
  is admitted only while the process's resident memory now, plus every byte reserved, plus
  the image, stays ``headroom_bytes`` below the limit. The accounting above assumes the rest
  of the process (frames of large sources, caches, clips' pre-roll) fits beside it; the
  gate holds when it does not. Reserved bytes already allocated are counted twice: it errs
  towards refusing, never towards the limit.
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
import threading
import time
from typing import Callable, Optional

from bosdyn.api import image_pb2

from camera_service.core.memory_limits import (
    RESPONSE_COPIES,
    BudgetLimits,
    headroom_bytes,
    mib_text,
)
from camera_service.encoding.encoder import OutputSpec
from camera_service.serving.request_spec import RequestRejected

_LOG = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 2.0
PRESSURE_RECHECK_SECONDS = 0.1
DEFAULT_MAX_WAITING = 4
_CHANNELS = {"rgb": 3, "grey": 1, "rgba": 4, "grey16": 2, "depth16": 2}  # bytes per pixel


class OverBudget(RequestRejected):
    """An image refused because serving it would pass a memory limit."""

    def __init__(self, message: str) -> None:
        super().__init__(image_pb2.ImageResponse.STATUS_IMAGE_DATA_ERROR, message)


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
    ``CallBudget``; its reservations return to the pool when the call ends. ``measure``
    (bytes the process holds now, e.g. ``private_resident_bytes``) turns on the measured
    gate."""

    def __init__(self, limits: BudgetLimits, max_wait: float = MAX_WAIT_SECONDS,
                 measure: Optional[Callable[[], int]] = None) -> None:
        self.limits = limits
        self.max_wait = max_wait
        self._measure = measure
        self._ceiling = limits.memory_limit - headroom_bytes(limits.memory_limit)
        self._cond = threading.Condition()
        self._used = 0
        self.peak = 0  # highest in-flight bytes seen (benchmarks)
        self.refused = 0  # images refused for memory (counters)
        # called (no lock held) while a reservation waits for room, every
        # PRESSURE_RECHECK_SECONDS: whoever can free memory held for nothing does it
        self.on_pressure: Optional[Callable[[], object]] = None
        # calls that may wait for room at once; the rest are refused at once, so waiting
        # never takes every gRPC worker (the service sets half its workers)
        self.max_waiting = DEFAULT_MAX_WAITING
        self._waiting = 0

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
            if not self._fits(nbytes):
                if self._waiting >= self.max_waiting:
                    return False  # enough calls wait already: never every worker
                self._waiting += 1
                try:
                    if not self._wait_for_room(nbytes, deadline):
                        return False
                finally:
                    self._waiting -= 1
            self._used += nbytes
            self.peak = max(self.peak, self._used)
            return True

    def _wait_for_room(self, nbytes: int, deadline: float) -> bool:
        """(Lock held) wait until ``nbytes`` fit or ``deadline`` passes; True if they fit."""
        while not self._fits(nbytes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.on_pressure is not None:  # e.g. stalled clients' calls cancelled
                self._cond.release()
                try:
                    self.on_pressure()
                finally:
                    self._cond.acquire()
            self._cond.wait(min(remaining, PRESSURE_RECHECK_SECONDS))
        return True

    def _fits(self, nbytes: int) -> bool:
        """(Lock held) whether ``nbytes`` more fit the account and, measured, the limit."""
        if self._used + nbytes > self.limits.in_flight_bytes:
            return False
        return self._measure is None or (self._measure() + self._used + nbytes
                                         <= self._ceiling)

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

    def time_remaining(self) -> Optional[float]:
        """Seconds until the call's deadline (None: no deadline)."""
        return self._time_remaining()

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
        remaining = self.time_remaining()
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
