"""Malformed requests: answered, counted, and logged at most once per interval per kind.

gRPC's generated registration parses requests itself and logs an ERROR with a traceback for
every request that does not parse (8,000 garbage requests: 48,000 log lines).
``add_image_service`` registers the servicer with parsers that never raise instead: a request
that does not parse is answered with the Spot header error ``CODE_INVALID_REQUEST`` (the RPC
answers, as for any other bad input) and noted in a ``RateLimitedLog``.

``RateLimitedLog`` (``core.rate_limited_log``) logs the first note of a kind at once, then at
most one line per ``interval`` seconds per kind; it is re-exported here for old imports.
"""

from __future__ import annotations

import logging
from typing import Callable

import grpc
from bosdyn.api import header_pb2, image_pb2
from google.protobuf.message import DecodeError

from camera_service.core.errors import excerpt
from camera_service.core.rate_limited_log import RateLimitedLog

_LOG = logging.getLogger(__name__)
SERVICE = "bosdyn.api.ImageService"
__all__ = ["RateLimitedLog", "add_image_service"]


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
