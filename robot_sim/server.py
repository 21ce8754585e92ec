"""The TLS gRPC server of the simulated robot, which can be taken down and brought back.

Stopping the server drops every connection and cancels calls in flight; starting it again
binds the same port. Between the two, connections are refused - a robot that is rebooting
or not up yet.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures

import grpc

from robot_sim import authority
from robot_sim.dispatch import Dispatcher
from robot_sim.routing import MAX_MESSAGE_BYTES

LOG = logging.getLogger("robot_sim")
WORKER_THREADS = 64


class PortInUseError(RuntimeError):
    """The simulator's port could not be bound."""


class SimServer:
    """One TLS port serving ``dispatcher``; ``start``/``stop`` may alternate."""

    def __init__(self, dispatcher: Dispatcher, bind: str, port: int, cert_pem: bytes,
                 key_pem: bytes) -> None:
        authority.install()
        self._dispatcher = dispatcher
        self._bind = bind
        self.port = port
        self._credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None

    @property
    def serving(self) -> bool:
        """True while the port accepts connections."""
        with self._lock:
            return self._server is not None

    def start(self) -> None:
        """Bind and serve (no-op while serving). Raises PortInUseError."""
        with self._lock:
            if self._server is not None:
                return
            server = grpc.server(
                futures.ThreadPoolExecutor(max_workers=WORKER_THREADS,
                                           thread_name_prefix="robot_sim"),
                handlers=[self._dispatcher],
                options=[("grpc.so_reuseport", 0),
                         ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                         ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)],
            )
            host = f"[{self._bind}]" if ":" in self._bind else self._bind
            try:
                bound = server.add_secure_port(f"{host}:{self.port}",
                                               self._credentials)
            except RuntimeError as exc:
                bound = 0
                LOG.debug("bind failed: %s", exc)
            if not bound:
                raise PortInUseError(f"cannot listen on {self._bind}:{self.port} (port in use?);"
                                     " pick another with --port")
            self.port = bound
            server.start()
            self._server = server

    def stop(self) -> None:
        """Stop serving: drop all connections and cancel calls in flight."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait(5)
