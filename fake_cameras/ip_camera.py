"""A fake IP camera: HTTP multipart MJPEG of synthetic frames on loopback.

Like a cheap network camera it serves ``multipart/x-mixed-replace`` at ``/stream.mjpg``
(also ``/``, ``/video``, ``/mjpg/video.mjpg``) and one JPEG at ``/snapshot.jpg``,
optionally behind HTTP basic authentication. Each frame is rendered and encoded once per
tick and the same bytes go to every client. It remembers the bytes it sent for each sequence
number (``jpeg_for``, ``sequence_of``) so tests can check a receiver got them unchanged.

For drop-out tests: ``stop()`` closes the listening socket and every client connection (the
camera vanished), ``start()`` brings it back on the same port, ``restart()`` does both, and
``freeze()`` / ``unfreeze()`` keep connections open but stop sending (a stalled camera).

CLI (dev only)::

    python -m fake_cameras.ip_camera --port 8081 --width 1280 --height 720 --fps 30
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Deque, Dict, Optional, Set, Tuple

import cv2
import numpy as np
from camera_service.sources.synthetic import render_test_pattern

BOUNDARY = "fakecameraframe"
STREAM_PATHS = ("/", "/stream.mjpg", "/video", "/mjpg/video.mjpg")
SNAPSHOT_PATH = "/snapshot.jpg"


class FakeIPCamera:
    """An HTTP MJPEG camera on ``host`` (loopback) serving ``width x height`` at ``fps``.

    ``port=0`` picks a free port at the first ``start``; later starts reuse it. Use as a
    context manager or call ``start``/``stop``. Thread-safe.

    ``shape`` turns each encoded frame into what a misbehaving camera sends (see
    ``fake_cameras.hostile_cameras``); ``still=True`` renders the picture once and encodes
    that for every frame (for very large frames, where rendering each one would be slow).
    ``render`` replaces the test pattern: it gets the frame's sequence number (from 1) and
    returns the picture (BGR or grey uint8, ``height x width``) to send
    (``fake_cameras.board_camera`` uses it). ``make_frame`` replaces picture and encoding:
    it gets the sequence number and returns the JPEG bytes, sent as soon as it returns
    (``fake_cameras.clock_camera`` uses it to send each frame at the time drawn in it).
    """

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0,
                 quality: int = 80, port: int = 0, host: str = "127.0.0.1",
                 username: Optional[str] = None, password: Optional[str] = None,
                 history: int = 1000, shape: Optional[Callable[[bytes], bytes]] = None,
                 still: bool = False,
                 render: Optional[Callable[[int], np.ndarray]] = None,
                 make_frame: Optional[Callable[[int], bytes]] = None) -> None:
        self.width, self.height, self.fps, self.quality = width, height, fps, quality
        self._make_frame = make_frame
        self._shape = shape
        self._still = still
        self._render = render
        self._picture = None
        self.host, self.port = host, port
        self.credentials = (username, password) if username is not None else None
        self._cond = threading.Condition()
        self._history: Dict[int, bytes] = {}
        self._order: Deque[int] = collections.deque(maxlen=history)
        self._by_bytes: Dict[bytes, int] = {}
        self._latest: Tuple[int, bytes] = (0, b"")
        self._sequence = 0
        self._frozen = False
        self._running = False
        self._server: Optional[ThreadingHTTPServer] = None
        self._threads: list = []
        self._clients: Set[socket.socket] = set()
        self.connections = 0  # stream connections accepted so far

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FakeIPCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeIPCamera:
        """Listen (same port as before after a stop) and start producing frames."""
        if self._running:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._running = True
        self._threads = [
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                             name=f"fake-ip-camera-{self.port}", daemon=True),
            threading.Thread(target=self._produce, name=f"fake-ip-camera-{self.port}-frames",
                             daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Vanish from the network: stop listening and cut every client connection."""
        if not self._running:
            return
        with self._cond:
            self._running = False
            self._cond.notify_all()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._cond:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def restart(self, down_seconds: float = 0.0) -> None:
        """Drop out for ``down_seconds`` and come back on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def freeze(self) -> None:
        """Keep connections open but send nothing (a stalled camera)."""
        with self._cond:
            self._frozen = True

    def unfreeze(self) -> None:
        with self._cond:
            self._frozen = False

    @property
    def url(self) -> str:
        return self._url("/stream.mjpg")

    @property
    def snapshot_url(self) -> str:
        return self._url(SNAPSHOT_PATH)

    def _url(self, path: str) -> str:
        auth = ""
        if self.credentials:
            auth = f"{self.credentials[0]}:{self.credentials[1]}@"
        return f"http://{auth}{self.host}:{self.port}{path}"

    # -- what was served ------------------------------------------------------------------
    def jpeg_for(self, sequence: int) -> Optional[bytes]:
        """The JPEG bytes sent as frame ``sequence`` (if still in the history)."""
        with self._cond:
            return self._history.get(sequence)

    def sequence_of(self, jpeg: bytes) -> Optional[int]:
        """The sequence number of a frame with exactly these bytes, else ``None``."""
        with self._cond:
            return self._by_bytes.get(jpeg)

    @property
    def sequence(self) -> int:
        with self._cond:
            return self._sequence

    # -- frame production -----------------------------------------------------------------
    def _produce(self) -> None:
        period = 1.0 / self.fps
        due = time.monotonic()
        while True:
            with self._cond:
                if not self._running:
                    return
                frozen = self._frozen
            if not frozen:
                self._publish(self._encode())
            due += period
            delay = due - time.monotonic()
            if delay < 0:
                due = time.monotonic()  # fell behind: do not burst
            else:
                time.sleep(delay)

    def _encode(self) -> bytes:
        sequence = self._sequence + 1
        make = self._make_frame or self._picture_jpeg
        data = make(sequence)
        return self._shape(data) if self._shape is not None else data

    def _picture_jpeg(self, sequence: int) -> bytes:
        """The picture of frame ``sequence`` (``render``'s, else the test pattern) as JPEG."""
        image = self._picture
        if image is None:
            image = (self._render(sequence) if self._render is not None else
                     render_test_pattern(self.width, self.height, sequence, time.time()))
            if self._still:
                self._picture = image
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return encoded.tobytes()

    def _publish(self, jpeg: bytes) -> None:
        with self._cond:
            self._sequence += 1
            if len(self._order) == self._order.maxlen:
                old = self._order[0]
                self._by_bytes.pop(self._history.pop(old, b""), None)
            self._order.append(self._sequence)
            self._history[self._sequence] = jpeg
            self._by_bytes[jpeg] = self._sequence
            self._latest = (self._sequence, jpeg)
            self._cond.notify_all()

    def _next_frame(self, after: int, timeout: float) -> Optional[Tuple[int, bytes]]:
        """The newest frame after ``after`` (frames start at 1); ``None`` on timeout or when
        stopping."""
        after = max(after, 0)
        with self._cond:
            self._cond.wait_for(lambda: not self._running or self._latest[0] > after, timeout)
            if not self._running or self._latest[0] <= after:
                return None
            return self._latest

    def _authorized(self, header: Optional[str]) -> bool:
        if self.credentials is None:
            return True
        token = base64.b64encode(f"{self.credentials[0]}:{self.credentials[1]}".encode())
        return header == f"Basic {token.decode()}"


def _handler_for(camera: FakeIPCamera) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests and benchmarks do not want a line per request."""

        def do_GET(self) -> None:
            if not camera._authorized(self.headers.get("Authorization")):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="fake camera"')
                self.end_headers()
                return
            path = self.path.split("?", 1)[0]
            if path in STREAM_PATHS:
                self._stream()
            elif path == SNAPSHOT_PATH:
                self._snapshot()
            else:
                self.send_error(404, "no such stream")

        def _snapshot(self) -> None:
            frame = camera._next_frame(-1, timeout=5.0)
            if frame is None:
                self.send_error(503, "camera not ready")
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(frame[1])))
            self.end_headers()
            self.wfile.write(frame[1])

        def _stream(self) -> None:
            with camera._cond:
                camera._clients.add(self.connection)
                camera.connections += 1
                last = camera._latest[0] - 1  # start with the current frame
            try:
                self.send_response(200)
                self.send_header("Content-Type",
                                 f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                while True:
                    frame = camera._next_frame(last, timeout=1.0)
                    if frame is None:
                        if not camera._running:
                            return
                        continue
                    last, jpeg = frame
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(jpeg)}\r\nX-Sequence: {last}\r\n\r\n".encode()
                        + jpeg + b"\r\n")
                    self.wfile.flush()
            except OSError:
                return  # the client went away
            finally:
                with camera._cond:
                    camera._clients.discard(self.connection)

    return Handler


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_cameras.ip_camera",
        description="Serve synthetic frames as HTTP multipart MJPEG on loopback.")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality 1-100")
    parser.add_argument("--username", help="require HTTP basic authentication")
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("--host must be a loopback address (127.x.x.x)")
    camera = FakeIPCamera(args.width, args.height, args.fps, args.quality, args.port,
                          args.host, args.username, args.password)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with camera:
        shown = camera.url.replace(f"{args.username}:{args.password}@", "") \
            if args.username else camera.url
        print(f"fake IP camera ready: {shown} ({args.width}x{args.height} @{args.fps:g} fps)",
              flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
