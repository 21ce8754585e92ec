"""Malformed requests: answered, counted, and logged at most once per interval per kind.

gRPC's generated registration parses requests itself and logs an ERROR with a traceback for
every request that does not parse (8,000 garbage requests: 48,000 log lines).
``add_image_service`` registers the servicer with parsers that never raise instead: a request
that does not parse is answered with the Spot header error ``CODE_INVALID_REQUEST`` (the RPC
answers, as for any other bad input) and noted in a ``RateLimitedLog``.

``RateLimitedLog.note(kind, detail)`` logs the first note of a kind at once, then at most one
line per ``interval`` seconds per kind, saying how many were not logged in between;
``counts()`` has the totals (the service's counters).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, Tuple

import grpc
from bosdyn.api import header_pb2, image_pb2
from google.protobuf.message import DecodeError

from camera_service.core.errors import excerpt

_LOG = logging.getLogger(__name__)
SERVICE = "bosdyn.api.ImageService"


class RateLimitedLog:
    """Per-kind counting log (thread-safe); ``clock`` is injectable for tests."""

    def __init__(self, interval: float = 10.0, logger: logging.Logger = _LOG,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._logger = logger
        self._clock = clock
        self._lock = threading.Lock()
        self._totals: Dict[str, int] = {}
        self._window: Dict[str, Tuple[float, int]] = {}  # kind -> (last logged at, unlogged)

    def note(self, kind: str, detail: str) -> bool:
        """Count one ``kind``; log it unless one was logged less than ``interval`` ago.
        Returns whether a line was written."""
        now = self._clock()
        with self._lock:
            self._totals[kind] = self._totals.get(kind, 0) + 1
            last, unlogged = self._window.get(kind, (None, 0))
            if last is not None and now - last < self.interval:
                self._window[kind] = (last, unlogged + 1)
                return False
            self._window[kind] = (now, 0)
        more = (f" ({unlogged} more since the last such line, {self.interval:g} s ago or "
                "more)" if unlogged else "")
        self._logger.warning("%s: %s%s; logged at most every %g s", kind, detail, more,
                             self.interval)
        return True

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._totals)


class _Unparsable:
    """Stands in for a request whose bytes did not parse."""

    def __init__(self, size: int, reason: str) -> None:
        self.size = size
        self.reason = reason


def _lenient(message_type) -> Callable[[bytes], object]:
    def parse(data: bytes):
        try:
            return message_type.FromString(data)
        except (DecodeError, ValueError, RuntimeError) as err:
            return _Unparsable(len(data), str(err))
    return parse


def _guarded(method: Callable, response_type, rpc: str, log: RateLimitedLog) -> Callable:
    def behavior(request, context):
        if isinstance(request, _Unparsable):
            log.note(f"malformed {rpc} request",
                     f"{request.size} bytes that are not a {rpc}Request "
                     f"({excerpt(request.reason, 80)})")
            response = response_type()
            response.header.error.code = header_pb2.CommonError.CODE_INVALID_REQUEST
            response.header.error.message = f"the request is not a valid {rpc}Request"
            return response
        return method(request, context)
    return behavior


def _serialized(response) -> bytes:
    """A response message serialized; bytes (GetImage's answer assembled by the servicer
    from cached serialized parts) sent as they are."""
    return response if isinstance(response, bytes) else response.SerializeToString()


def add_image_service(servicer, server: grpc.Server, log: RateLimitedLog) -> None:
    """Register ``servicer``'s ListImageSources and GetImage on ``server`` (as the generated
    ``add_ImageServiceServicer_to_server`` does), with requests that do not parse answered
    ``CODE_INVALID_REQUEST`` and noted in ``log`` instead of a traceback each. GetImage is
    answered by ``servicer.get_image_bytes`` (pre-serialized) where the servicer has it."""
    handlers = {}
    for rpc, method, request_type, response_type in (
            ("ListImageSources", servicer.ListImageSources, image_pb2.ListImageSourcesRequest,
             image_pb2.ListImageSourcesResponse),
            ("GetImage", getattr(servicer, "get_image_bytes", servicer.GetImage),
             image_pb2.GetImageRequest, image_pb2.GetImageResponse)):
        handlers[rpc] = grpc.unary_unary_rpc_method_handler(
            _guarded(method, response_type, rpc, log),
            request_deserializer=_lenient(request_type),
            response_serializer=_serialized)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
