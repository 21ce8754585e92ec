"""The GetImage boundary: every limit a request and its call must keep, in one place,
checked before any work or allocation proportional to the request.

``RequestGuard.admit(request, context)`` runs first in every GetImage call:

- **count**: a call with more than ``max_images`` image requests is refused whole: one
  header error (``CODE_INVALID_REQUEST``) with one line naming the limit and the setting,
  no ``ImageResponse`` per request (830,000 requests in a 4 MB message would otherwise
  build 830,000 error entries, ~125 MB, before the response cap is ever checked);
- **sizes**: a source name longer than ``MAX_NAME_CHARS`` or custom parameters bigger than
  ``MAX_CUSTOM_PARAMS_BYTES`` refuse the call the same way (nothing echoes them back);
- **time**: every call ends at most ``max_call_seconds`` after it began, whether or not the
  client set a deadline (``GuardedCall.time_remaining``/``still_wanted`` are what the
  servicer and the memory budget use); a call still not delivered then is cancelled, which
  returns its memory to the budget;
- **slow consumers**: once the answer is handed to gRPC (``GuardedCall.handed_over``) it
  counts as *sending* until the call ends. When the memory budget has no room
  (``on_pressure``), calls that have been sending longer than their grace - ``send_grace``
  seconds plus their size at ``SEND_RATE_FLOOR`` (a 58 MB answer: 1.9 s) - are cancelled: a
  client that does not read (zero HTTP/2 window) never holds the room normal clients need.
  A client that reads gets its answer well within its grace and is never touched; nothing
  is cancelled while there is room.

Every refusal and cancellation is logged through one ``RateLimitedLog`` (one line per kind
per interval, with the count since).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import grpc
from bosdyn.api import header_pb2, image_pb2

from camera_service.core.rate_limited_log import RateLimitedLog

_LOG = logging.getLogger(__name__)
MAX_NAME_CHARS = 256  # source names are at most 63 characters
MAX_CUSTOM_PARAMS_BYTES = 64 * 1024  # a camera's controls are a few hundred bytes
MAX_CALL_SECONDS = 30.0  # the longest any GetImage may take, answer delivered
SEND_GRACE_SECONDS = 1.0  # a reading client has a small answer long before this
SEND_RATE_FLOOR = 64 * 1024 * 1024  # bytes/s: a big answer's grace grows with its size


@dataclass(frozen=True)
class Refusal:
    """Why a whole call is refused: one line for the header and the log."""

    kind: str
    message: str


def check_request(request: image_pb2.GetImageRequest, max_images: int) -> Optional[Refusal]:
    """The first limit ``request`` breaks, or None. Cost: one look at the count, then at
    most ``max_images`` requests' sizes."""
    count = len(request.image_requests)
    if count > max_images:
        return Refusal("GetImage with too many image requests",
                       f"the request asks for {count} images; at most {max_images} per "
                       "GetImage are answered (service.max_images_per_request): send them "
                       "in several requests")
    for index, image_request in enumerate(request.image_requests):
        if len(image_request.image_source_name) > MAX_NAME_CHARS:
            return Refusal("GetImage with an oversized source name",
                           f"image request {index} names a source of "
                           f"{len(image_request.image_source_name)} characters; source names "
                           f"are at most {MAX_NAME_CHARS}: use a name from ListImageSources")
        if (image_request.HasField("custom_params")
                and image_request.custom_params.ByteSize() > MAX_CUSTOM_PARAMS_BYTES):
            return Refusal("GetImage with oversized custom parameters",
                           f"image request {index} carries "
                           f"{image_request.custom_params.ByteSize()} bytes of custom "
                           f"parameters; at most {MAX_CUSTOM_PARAMS_BYTES} are read: send "
                           "only the camera's parameters from ListImageSources")
    return None


def refusal_response(request: image_pb2.GetImageRequest, refusal: Refusal) -> bytes:
    """The serialized GetImageResponse refusing the whole call (header error only)."""
    response = image_pb2.GetImageResponse()
    response.header.request_header.CopyFrom(request.header)
    response.header.error.code = header_pb2.CommonError.CODE_INVALID_REQUEST
    response.header.error.message = refusal.message
    return response.SerializeToString()


@dataclass
class _Watched:
    """One call the guard is watching (until it ends)."""

    context: grpc.ServicerContext
    ends_at: float  # monotonic: cancelled then if still running
    sending_since: Optional[float] = None
    nbytes: int = 0
    ended: bool = False


@dataclass
class GuardedCall:
    """One admitted call's view of the guard: its time left (the client's deadline cut to the
    guard's cap) and its sending state."""

    guard: RequestGuard
    context: Optional[grpc.ServicerContext]  # None for a call made in-process
    key: int
    ends_at: float

    def time_remaining(self) -> float:
        """Seconds left (the smaller of the client's deadline and the call cap)."""
        left = self.ends_at - self.guard.clock()
        client = self.context.time_remaining() if self.context is not None else None
        return max(0.0, left if client is None else min(left, client))

    def still_wanted(self) -> bool:
        """False once the client cancelled or the time is up."""
        if self.context is not None and not self.context.is_active():
            return False
        return self.time_remaining() > 0

    def handed_over(self, nbytes: int) -> None:
        """The answer (``nbytes``) goes to gRPC now: the call is sending until it ends."""
        self.guard._sending(self.key, nbytes)


class RequestGuard:
    """Admits GetImage calls and watches them until they end (thread-safe). ``clock`` is
    injectable. Call ``cancel_overdue()`` periodically (the service's watchdog does, twice a
    second); memory pressure cancels overdue calls too."""

    def __init__(self, max_images: int, max_call_seconds: float = MAX_CALL_SECONDS,
                 send_grace: float = SEND_GRACE_SECONDS, log: RateLimitedLog | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_images = max_images
        self.max_call_seconds = max_call_seconds
        self.send_grace = send_grace
        self.clock = clock
        self.log = log or RateLimitedLog(60.0, _LOG)
        self.cancelled = 0  # calls cancelled (stalled clients, calls past their time)
        self._lock = threading.Lock()
        self._calls: Dict[int, _Watched] = {}
        self._due: List[Tuple[float, int]] = []  # heap of (ends_at, key)
        self._keys = itertools.count()

    # -- admission ---------------------------------------------------------------------------
    def admit(self, request: image_pb2.GetImageRequest, context
              ) -> Tuple[Optional[bytes], Optional[GuardedCall]]:
        """(refusal, None) for a request that breaks a limit: the serialized answer to send
        as is; else (None, the call's ``GuardedCall``)."""
        refusal = check_request(request, self.max_images)
        if refusal is not None:
            self.log.note(refusal.kind, refusal.message)
            return refusal_response(request, refusal), None
        now = self.clock()
        ends_at = now + self.max_call_seconds
        key = next(self._keys)
        call = GuardedCall(self, context, key, ends_at)
        if context is None:
            return None, call
        with self._lock:
            while self._due and self._due[0][1] not in self._calls:
                heapq.heappop(self._due)  # calls that ended: the heap holds running ones
            self._calls[key] = _Watched(context, ends_at)
            heapq.heappush(self._due, (ends_at, key))
        if not context.add_callback(lambda: self._ended(key)):
            self._ended(key)  # it has ended already
        return None, call

    # -- watching ------------------------------------------------------------------------------
    def _sending(self, key: int, nbytes: int) -> None:
        with self._lock:
            watched = self._calls.get(key)
            if watched is not None:
                watched.sending_since = self.clock()
                watched.nbytes = nbytes

    def _ended(self, key: int) -> None:
        with self._lock:
            watched = self._calls.pop(key, None)
            if watched is not None:
                watched.ended = True

    def watched(self) -> int:
        """Calls running now."""
        with self._lock:
            return len(self._calls)

    def grace(self, nbytes: int) -> float:
        """Seconds a reading client needs at most for an ``nbytes`` answer."""
        return self.send_grace + nbytes / SEND_RATE_FLOOR

    def on_pressure(self) -> int:
        """The memory budget is full: cancel every call that has been sending longer than its
        ``grace`` (its client is not reading), and every call past its time. Returns how
        many were cancelled."""
        now = self.clock()
        with self._lock:
            stalled = [(key, w) for key, w in self._calls.items()
                       if (w.sending_since is not None
                           and now - w.sending_since >= self.grace(w.nbytes))
                       or now >= w.ends_at]
        for key, watched in stalled:
            self._cancel(key, watched, "GetImage client not reading its answer",
                         f"cancelled a call whose {watched.nbytes} byte answer was not read "
                         f"within {self.grace(watched.nbytes):.1f} s while others waited for "
                         "memory (a stalled client)")
        return len(stalled)

    def cancel_overdue(self) -> int:
        """Cancel the calls past their time; returns how many."""
        now = self.clock()
        overdue = []
        with self._lock:
            while self._due and self._due[0][0] <= now:
                _, key = heapq.heappop(self._due)
                watched = self._calls.get(key)
                if watched is not None:
                    overdue.append((key, watched))
        for key, watched in overdue:
            self._cancel(key, watched, "GetImage call past its time",
                         f"cancelled a call still running after {self.max_call_seconds:g} s "
                         "(no or a long client deadline, answer not read)")
        return len(overdue)

    def _cancel(self, key: int, watched: _Watched, kind: str, detail: str) -> None:
        with self._lock:
            if self._calls.pop(key, None) is None:
                return  # ended meanwhile
            self.cancelled += 1
        self.log.note(kind, detail)
        try:
            watched.context.cancel()  # ends the call: its callbacks return its memory
        except Exception as err:  # an ended call: nothing to cancel
            _LOG.debug("cancelling a call failed: %s", err)
