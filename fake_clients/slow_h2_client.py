"""A gRPC caller that never reads its answer: HTTP/2 with a zero flow-control window.

Each ``SlowH2Client`` opens one HTTP/2 connection (``h2`` over a plain or TLS socket), sets
its initial stream window to 0 in its first SETTINGS frame - so the server may send
response headers but never a byte of the message - and sends one
``bosdyn.api.ImageService/GetImage`` call asking for ``images`` RAW images with no deadline.
It then holds the connection: a reader thread answers the server's SETTINGS and PINGs (so
the connection stays healthy) and never opens the window. Whatever the server keeps for
that call until it ends is kept until ``close()``.

``SlowH2Clients(target, count, ...)`` holds ``count`` of them (context manager).

CLI (dev only; Ctrl-C closes them)::

    python -m fake_clients.slow_h2_client --target 127.0.0.1:50051 --connections 10
    python -m fake_clients.slow_h2_client --target robot:443 --tls --ca ca.pem \\
        --authority robot-web-cam.spot.robot --token-file token.txt --source camera
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import ssl
import struct
import sys
import threading
from typing import List, Optional, Sequence

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from bosdyn.api import image_pb2

GET_IMAGE_PATH = "/bosdyn.api.ImageService/GetImage"
DEFAULT_SOURCES = ("camera",)


def get_image_request(sources: Sequence[str], images: int = 32) -> bytes:
    """A serialized GetImageRequest for ``images`` RAW images, cycling over ``sources``."""
    request = image_pb2.GetImageRequest()
    request.header.client_name = "slow-h2-client"
    for index in range(images):
        request.image_requests.add(image_source_name=sources[index % len(sources)],
                                   image_format=image_pb2.Image.FORMAT_RAW)
    return request.SerializeToString()


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: not compressed (0), 4-byte big-endian length."""
    return struct.pack(">BI", 0, len(message)) + message


def split_target(target: str) -> tuple:
    """``host:port`` -> (host, port); raises ``ValueError`` with one line."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--target must be host:port, got {target!r}")
    return host.strip("[]"), int(port)


class SlowH2Client:
    """One stalled GetImage call on its own HTTP/2 connection (see module doc).

    ``open()`` connects and sends the call (raises ``ConnectionError``, one line, when it
    cannot); ``close()`` drops the connection (idempotent). What the server did is visible
    in ``response_started`` (it sent response headers), ``data_bytes`` (DATA received:
    0 while the window is shut) and ``ended`` (the call ended or the connection closed).
    """

    def __init__(self, target: str, sources: Sequence[str] = DEFAULT_SOURCES,
                 images: int = 32, tls: bool = False, ca: Optional[str] = None,
                 authority: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 10.0) -> None:
        self.host, self.port = split_target(target)
        self.sources, self.images = tuple(sources), images
        self.tls, self.ca, self.token, self.timeout = tls, ca, token, timeout
        self.authority = authority or f"{self.host}:{self.port}"
        self.response_started = threading.Event()
        self.ended = threading.Event()
        self.data_bytes = 0
        self._sock: Optional[socket.socket] = None
        self._reader: Optional[threading.Thread] = None
        self._lock = threading.Lock()  # the h2 state and the socket's send side
        self._conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))

    def __enter__(self) -> SlowH2Client:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as err:
            raise ConnectionError(f"cannot connect to {self.host}:{self.port}: "
                                  f"{err.strerror or err}") from None
        if not self.tls:
            return sock
        try:
            context = ssl.create_default_context(cafile=self.ca)
            context.set_alpn_protocols(["h2"])
            return context.wrap_socket(sock, server_hostname=self.authority.split(":")[0])
        except (OSError, ssl.SSLError) as err:
            sock.close()
            raise ConnectionError(f"TLS to {self.host}:{self.port} failed: {err}") from None

    def open(self) -> SlowH2Client:
        sock = self._connect()
        sock.settimeout(None)
        self._sock = sock
        conn = self._conn
        with self._lock:
            conn.initiate_connection()
            conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
            stream = conn.get_next_available_stream_id()
            headers = [(":method", "POST"), (":scheme", "https" if self.tls else "http"),
                       (":path", GET_IMAGE_PATH), (":authority", self.authority),
                       ("content-type", "application/grpc"), ("te", "trailers"),
                       ("user-agent", "slow-h2-client")]
            if self.token:
                headers.append(("authorization", f"Bearer {self.token}"))
            conn.send_headers(stream, headers)
            conn.send_data(stream, grpc_frame(get_image_request(self.sources, self.images)),
                           end_stream=True)
            self._flush()
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"slow-h2-{self.host}:{self.port}")
        self._reader.start()
        return self

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data and self._sock is not None:
            self._sock.sendall(data)

    def _read(self) -> None:
        try:
            while True:
                sock = self._sock
                data = sock.recv(65536) if sock is not None else b""
                if not data:
                    return
                with self._lock:
                    events = self._conn.receive_data(data)
                    self._flush()  # SETTINGS and PING acknowledgements only
                for event in events:
                    self._note(event)
        except (OSError, h2.exceptions.ProtocolError):
            return
        finally:
            self.ended.set()

    def _note(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.response_started.set()
        elif isinstance(event, h2.events.DataReceived):
            self.data_bytes += len(event.data)  # never acknowledged: the window stays shut
        elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset,
                                h2.events.ConnectionTerminated)):
            self.ended.set()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._reader is not None:
            self._reader.join(timeout=5)


class SlowH2Clients:
    """``count`` ``SlowH2Client`` connections to ``target`` (options as for one), opened by
    ``open()`` or ``with``, all closed by ``close()``."""

    def __init__(self, target: str, count: int = 10, **options) -> None:
        self.target, self.count, self.options = target, count, options
        self.clients: List[SlowH2Client] = []

    def __enter__(self) -> SlowH2Clients:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> SlowH2Clients:
        try:
            while len(self.clients) < self.count:
                self.clients.append(SlowH2Client(self.target, **self.options).open())
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        clients, self.clients = self.clients, []
        for client in clients:
            client.close()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_clients.slow_h2_client",
        description="Hold GetImage calls open on HTTP/2 connections with a zero "
                    "flow-control window (the server can never send the answer).")
    parser.add_argument("--target", required=True, help="host:port of the gRPC server")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--images", type=int, default=32, help="RAW images per call")
    parser.add_argument("--source", action="append", dest="sources",
                        help=f"image source to ask for (repeatable; default "
                             f"{DEFAULT_SOURCES[0]})")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--ca", help="CA certificate file for --tls (default: system CAs)")
    parser.add_argument("--authority", help="HTTP/2 :authority and TLS server name")
    parser.add_argument("--token-file", help="file holding a bearer token (through a robot)")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.images < 1:
        parser.error("--connections and --images must be at least 1")
    token = None
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as err:
            parser.error(f"cannot read --token-file {args.token_file}: {err.strerror}")
    try:
        split_target(args.target)
    except ValueError as err:
        parser.error(str(err))
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    clients = SlowH2Clients(args.target, args.connections,
                            sources=args.sources or DEFAULT_SOURCES, images=args.images,
                            tls=args.tls, ca=args.ca, authority=args.authority, token=token)
    try:
        clients.open()
    except ConnectionError as err:
        print(f"slow-h2-client: {err}", file=sys.stderr)
        return 1
    try:
        print(f"holding {args.connections} zero-window GetImage call(s) to {args.target}; "
              "Ctrl-C closes them", flush=True)
        stopping.wait()
    finally:
        clients.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
