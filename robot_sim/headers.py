"""Response headers filled the way the robot fills them.

Every bosdyn response carries a ``ResponseHeader``: the request header echoed, receive and
response timestamps in robot time (TimeSync uses them as its round-trip samples) and a
``CommonError`` whose code must be set - the SDK treats CODE_UNSPECIFIED as an error.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from bosdyn.api import header_pb2

from robot_sim.clock import RobotClock

CODE_OK = header_pb2.CommonError.CODE_OK
CODE_INVALID_REQUEST = header_pb2.CommonError.CODE_INVALID_REQUEST
CODE_INTERNAL_SERVER_ERROR = header_pb2.CommonError.CODE_INTERNAL_SERVER_ERROR


class HeaderError(Exception):
    """Raised by a servicer method to answer with a common-header error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def responds(response_type: type) -> Callable:
    """Decorate a unary servicer method ``fn(self, request, context) -> response``.

    ``self.clock`` must be the robot's ``RobotClock``. The wrapper records the receive time,
    calls ``fn`` and fills the response header (echo, timestamps, CODE_OK). A ``HeaderError``
    becomes an empty ``response_type`` carrying that code.
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(self: Any, request: Any, context: Any) -> Any:
            clock = self.clock
            received = clock.now_timestamp()
            try:
                response = fn(self, request, context)
                code, message = CODE_OK, ""
            except HeaderError as exc:
                response = response_type()
                code, message = exc.code, exc.message
            fill_header(response.header, request.header, received, clock, code, message)
            return response

        return wrapper

    return decorate


def fill_header(
    header: header_pb2.ResponseHeader,
    request_header: header_pb2.RequestHeader,
    received: Any,
    clock: RobotClock,
    code: int = CODE_OK,
    message: str = "",
) -> None:
    """Fill ``header`` in place (see module docstring)."""
    header.request_header.CopyFrom(request_header)
    header.request_received_timestamp.CopyFrom(received)
    header.error.code = code
    header.error.message = message
    header.response_timestamp.CopyFrom(clock.now_timestamp())
