"""Forwarding of calls for a registered authority to the service's own host:port.

As on the robot, a call whose authority is a registered ``<authority>.spot.robot`` goes to the
endpoint that service registered, over plain gRPC. The proxy forwards raw bytes and treats
every method as bidirectional streaming, which is wire-compatible with unary and
server/client-streaming calls alike, so any service type works without knowing its protos.
"""

from __future__ import annotations

import logging
import threading
from typing import Dict, Iterator, Tuple

import grpc

from robot_sim.state import Registration

LOG = logging.getLogger("robot_sim")
_SKIPPED_METADATA = ("user-agent", "grpc-")
MAX_MESSAGE_BYTES = 100 * 1024 * 1024


class Router:
    """Builds proxy handlers and keeps one channel per upstream endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: Dict[Tuple[str, int], grpc.Channel] = {}

    def close(self) -> None:
        """Close all upstream channels."""
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()

    def channel(self, host: str, port: int) -> grpc.Channel:
        """A (cached) plain channel to a registered service's endpoint."""
        with self._lock:
            channel = self._channels.get((host, port))
            if channel is None:
                channel = grpc.insecure_channel(
                    f"{host}:{port}",
                    options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                             ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                             # Retry a restarted service quickly (grpc's default reconnect
                             # back-off grows to two minutes).
                             ("grpc.initial_reconnect_backoff_ms", 100),
                             ("grpc.min_reconnect_backoff_ms", 100),
                             ("grpc.max_reconnect_backoff_ms", 1000)],
                )
                self._channels[(host, port)] = channel
            return channel

    def handler(self, method: str, registration: Registration) -> grpc.RpcMethodHandler:
        """A raw-bytes stream-stream handler forwarding ``method`` to ``registration``."""
        channel = self.channel(registration.host, registration.port)
        name = registration.entry.name
        target = f"{registration.host}:{registration.port}"

        def forward(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
            metadata = [(k, v) for k, v in context.invocation_metadata()
                        if not k.startswith(_SKIPPED_METADATA) and not k.startswith(":")]
            remaining = context.time_remaining()
            timeout = remaining if remaining is not None and remaining < 1e6 else None
            call = channel.stream_stream(method)(requests, metadata=metadata, timeout=timeout)
            context.add_callback(call.cancel)
            try:
                yield from call
                context.set_trailing_metadata(call.trailing_metadata() or ())
            except grpc.RpcError as exc:
                code = exc.code()
                details = exc.details() or ""
                if code == grpc.StatusCode.UNAVAILABLE and _is_connect_failure(details):
                    LOG.warning("route error: %s for %s at %s unreachable (%s)", method, name,
                                target, details)
                    context.abort(grpc.StatusCode.UNAVAILABLE,
                                  f"502 Bad Gateway: service {name} at {target} unreachable")
                if code != grpc.StatusCode.CANCELLED:
                    LOG.info("routed %s to %s answered %s", method, name, code.name)
                context.abort(code, details)

        return grpc.stream_stream_rpc_method_handler(forward)


def _is_connect_failure(details: str) -> bool:
    """True when grpc could not reach the upstream (as opposed to the service answering
    UNAVAILABLE itself)."""
    lowered = details.lower()
    return any(text in lowered for text in ("failed to connect", "connection refused",
                                            "connect failed", "socket closed",
                                            "connection reset"))
