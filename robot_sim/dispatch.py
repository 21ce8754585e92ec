"""The robot's front door: every call passes here before any service sees it.

In order: a call for a registered authority is routed to that service (``routing``); any
other call goes to the robot's own servicer for its method. A call that needs a user token
and carries no valid one is refused with UNAUTHENTICATED (the SDK raises UnauthenticatedError).
Simulated latency (for every call, and per gRPC service on top) is added on the worker thread
before the call is handled; a call whose client gave up stops waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, List

import grpc

from robot_sim.authority import current_authority
from robot_sim.routing import Router
from robot_sim.state import AUTHORITY_SUFFIX, RESERVED_AUTHORITIES, RobotState
from robot_sim.tokens import bearer_token

LOG = logging.getLogger("robot_sim")

#: Services reachable without a user token, as on the robot.
OPEN_SERVICES = frozenset({
    "bosdyn.api.AuthService",
    "bosdyn.api.PayloadRegistrationService",
    "bosdyn.api.RobotIdService",
})

_KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


class HandlerCollector:
    """Stands in for a grpc server when calling ``add_*Servicer_to_server``.

    Keeps the generic handlers those functions add; ``lookup`` finds a method's handler.
    """

    def __init__(self) -> None:
        self._generic: List[grpc.GenericRpcHandler] = []
        self._registered: Dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, generic_handlers) -> None:
        self._generic.extend(generic_handlers)

    def add_registered_method_handlers(self, service_name: str, method_handlers) -> None:
        for method, handler in method_handlers.items():
            self._registered[f"/{service_name}/{method}"] = handler

    def lookup(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        """The handler for ``details.method``, or None when no servicer has it."""
        handler = self._registered.get(details.method)
        for generic in self._generic:
            if handler is not None:
                break
            handler = generic.service(details)
        return handler


def _kind(handler: grpc.RpcMethodHandler) -> str:
    return _KINDS[2 * bool(handler.request_streaming) + bool(handler.response_streaming)]


def _wrapped(handler: grpc.RpcMethodHandler,
             before: Callable[[grpc.ServicerContext], None]) -> grpc.RpcMethodHandler:
    """``handler`` with ``before(context)`` run first on the worker thread."""
    kind = _kind(handler)
    inner = getattr(handler, kind)
    if handler.response_streaming:
        def call(request, context):
            before(context)
            yield from inner(request, context)
    else:
        def call(request, context):
            before(context)
            return inner(request, context)
    factory = getattr(grpc, kind + "_rpc_method_handler")
    return factory(call, request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, details: str):
    """A handler of the same shape as ``handler`` that only answers ``code``."""

    def refuse(context: grpc.ServicerContext) -> None:
        context.abort(code, details)

    return _wrapped(handler, refuse)


class Dispatcher(grpc.GenericRpcHandler):
    """Routes, authenticates and delays calls; see the module docstring."""

    def __init__(self, state: RobotState, handlers: HandlerCollector,
                 router: Router) -> None:
        self._state = state
        self._handlers = handlers
        self._router = router
        self.latency_seconds = 0.0
        # gRPC service name (e.g. "bosdyn.api.TimeSyncService") -> extra seconds per call
        self.service_latency: Dict[str, float] = {}
        self._delayed = 0  # calls being delayed right now
        self._delayed_lock = threading.Lock()

    @property
    def calls_delayed(self) -> int:
        """How many calls are held by simulated latency at this moment."""
        with self._delayed_lock:
            return self._delayed

    def _delay_for(self, service: str) -> Callable[[grpc.ServicerContext], None]:
        def delay(context: grpc.ServicerContext) -> None:
            seconds = self.latency_seconds + self.service_latency.get(service, 0.0)
            if seconds <= 0:
                return
            deadline = time.monotonic() + seconds
            with self._delayed_lock:
                self._delayed += 1
            try:
                # in slices, so a stalled answer ends when its client gives up
                while context.is_active():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    time.sleep(min(0.05, remaining))
            finally:
                with self._delayed_lock:
                    self._delayed -= 1

        return delay

    def _token_ok(self, details: grpc.HandlerCallDetails) -> bool:
        token = bearer_token(details.invocation_metadata)
        return token is not None and self._state.tokens.verify(token) is not None

    def service(self, handler_call_details: grpc.HandlerCallDetails
                ) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        authority = current_authority()
        needs_token = True
        if authority.endswith(AUTHORITY_SUFFIX) and authority not in RESERVED_AUTHORITIES:
            registration = self._state.registration_for_authority(
                authority, method.split("/")[1])
            handler = (self._router.handler(method, registration) if registration else None)
            if handler is None:
                LOG.info("route error: no service registered for authority %s (%s)",
                         authority, method)
                return _refusal(grpc.stream_stream_rpc_method_handler(None),
                                grpc.StatusCode.UNAVAILABLE,
                                "502: no service registered for authority " + authority)
            needs_token = registration.entry.user_token_required
        else:
            handler = self._handlers.lookup(handler_call_details)
            if handler is None:
                return None
            needs_token = method.split("/")[1] not in OPEN_SERVICES
        if needs_token and not self._token_ok(handler_call_details):
            LOG.info("refused %s: missing, invalid or expired user token", method)
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            "401: missing, invalid or expired user token")
        return _wrapped(handler, self._delay_for(method.split("/")[1]))
