"""Half-open HTTP connections: many clients that start a request and never finish it.

``HalfOpenConnections(host, port, count)`` opens ``count`` TCP connections (``tls=True``:
each completes a TLS handshake first, certificate not checked - the settings page's is
self-signed) and sends each the start of an HTTP request (``partial``: a request line and
one header, no blank line), then holds them until ``close()``. ``still_open()`` counts the
ones the server has not closed. Context manager.

CLI (dev only; Ctrl-C closes them)::

    python -m fake_clients.half_open --target 127.0.0.1:21231 --connections 800 --tls
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import signal
import socket
import ssl
import sys
import threading
from typing import List, Optional, Union

from fake_clients.slow_h2_client import split_target

PARTIAL_REQUEST = b"GET / HTTP/1.1\r\nHost: camera\r\nX-Half-Open: "
Socket = Union[socket.socket, ssl.SSLSocket]


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file soft limit toward ``wanted`` (up to the hard limit);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class HalfOpenConnections:
    """``count`` connections to ``host``:``port`` each holding a partial request (see
    module doc). ``open()`` raises ``ConnectionError`` (one line) when one cannot be made,
    after closing those it made. Not thread-safe."""

    def __init__(self, host: str, port: int, count: int = 800, tls: bool = False,
                 partial: bytes = PARTIAL_REQUEST, timeout: float = 10.0) -> None:
        self.host, self.port, self.count, self.tls = host, port, count, tls
        self.partial, self.timeout = partial, timeout
        self.sockets: List[Socket] = []

    def __enter__(self) -> HalfOpenConnections:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, context: Optional[ssl.SSLContext]) -> Socket:
        sock: Socket = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=self.host)
            if self.partial:
                sock.sendall(self.partial)
        except BaseException:
            sock.close()
            raise
        return sock

    def open(self) -> HalfOpenConnections:
        raise_fd_limit(self.count + 256)
        context = None
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            while len(self.sockets) < self.count:
                self.sockets.append(self._one(context))
        except (OSError, ssl.SSLError) as err:
            made = len(self.sockets)
            self.close()
            raise ConnectionError(f"half-open connection {made + 1} of {self.count} to "
                                  f"{self.host}:{self.port} failed: {err}") from None
        return self

    def still_open(self) -> int:
        """Connections the server has not closed (nothing read from them)."""
        return sum(1 for sock in self.sockets if _open(sock))

    def close(self) -> None:
        sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()


def _open(sock: Socket) -> bool:
    raw = socket.socket(fileno=sock.fileno())  # peek below TLS: a close shows as EOF
    try:
        return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True  # nothing to read: still open
    except OSError:
        return False
    finally:
        raw.detach()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_clients.half_open",
        description="Open many connections that each start an HTTP request and never "
                    "finish it; hold them until Ctrl-C.")
    parser.add_argument("--target", required=True, help="host:port of the HTTP server")
    parser.add_argument("--connections", type=int, default=800)
    parser.add_argument("--tls", action="store_true", help="complete a TLS handshake first")
    args = parser.parse_args(argv)
    try:
        host, port = split_target(args.target)
    except ValueError as err:
        parser.error(str(err))
    if args.connections < 1:
        parser.error("--connections must be at least 1")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        held = HalfOpenConnections(host, port, args.connections, tls=args.tls).open()
    except ConnectionError as err:
        print(f"half-open: {err}", file=sys.stderr)
        return 1
    try:
        print(f"holding {args.connections} half-open connection(s) to {args.target}; "
              "Ctrl-C closes them", flush=True)
        stopping.wait()
    finally:
        held.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
