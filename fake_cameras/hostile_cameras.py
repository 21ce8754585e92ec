"""A hostile IP camera: one HTTP server serving each kind of bad stream a careless or hostile
camera sends, by URL path (memory-budget, frame-hygiene, back-off and fault tests).

``HostileCameraServer`` listens on loopback; ``server.url("/png-bomb")`` is a camera URL.
Every stream part is labelled ``image/jpeg`` whatever it holds. Paths (``GET /`` lists them
with their query parameters; ``fake_cameras.hostile_streams`` holds what each one sends):

- ``/valid``: a genuine MJPEG stream at ``?fps=`` (default the server's fps), for contrast;
- ``/endless-part-header``: a part whose header is ``X-Junk-N: aaa...`` lines forever;
- ``/endless-header-line``: a part header line that never ends (no newline, ever);
- ``/endless-http-header``: an HTTP response head that never ends (``X-Junk-N`` lines);
- ``/length-huge``: parts declaring Content-Length 2**40 (``?declared=N``), frames follow;
- ``/length-short``: parts declaring half their real length;
- ``/no-boundary``: one part with no Content-Length whose closing delimiter never comes;
- ``/png-bomb``: a complete PNG of 16000x16000 black pixels (760 kB; 768 MB decoded);
- ``/<fmt>-bomb``: a small frame whose header declares 16000x16000, for every format OpenCV
  decodes and this build encodes (jpeg, bmp, tiff, webp, gif, ppm, pam, pfm, sunras, hdr,
  jp2, avif: ``fake_cameras.image_bombs``); ``?size=WxH`` changes the declared size of
  every bomb;
- ``/garbage``: parts of 1-64 KiB of random bytes;
- ``/drip``: a genuine stream whose body comes 1 byte a second (``?rate=`` bytes/s);
- ``/flap``: genuine frames for 1 s, then every connection reset for 1 s, and so on
  (``?period=`` seconds; the phase runs from the server's start);
- ``/slow-loris``: half a frame, then nothing, the connection held open until the server
  stops;
- ``/401`` (asks for basic authentication), ``/403``, ``/404``: refusals;
- ``/_stats``: JSON ``{"attempts": {path: requests so far}}`` (every path, query left off),
  so a test can assert a client backs off; ``attempts(path)`` in Python.

Endless streams send as fast as the client reads; the others pace frames at ``?fps=``.

CLI (dev only)::

    python -m fake_cameras.hostile_cameras --port 8090

Also here, cameras built on ``FakeIPCamera`` (each returned not started):

- ``jpeg_bomb_camera``: tiny 16x16 JPEG frames (under 1 KB) whose frame header declares
  30000x30000 - decoding one would take 2.5 GiB;
- ``truncated_camera``: every frame stops in the middle of its image data (no end-of-image
  marker), the way frames look after lost packets;
- ``huge_camera``: real 8000x8000 frames (a 64-megapixel camera).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Set, Tuple

from fake_cameras.hostile_streams import PATHS, BadQuery, Connection, Gone, path_summaries
from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.uvc_frames import uvc_frame, with_declared_size

BOMB_SIZE = (30000, 30000)  # of jpeg_bomb_camera (the server's bombs declare 16000x16000)
STATS_PATH = "/_stats"


class HostileCameraServer:
    """The hostile camera (see module doc) on ``host``:``port`` (0: a free port, kept across
    restarts). Frames of the genuine streams are ``size`` (width, height) at ``fps``.

    Context manager or ``start``/``stop``; ``stop`` cuts every connection (handlers blocked
    in a write or holding a connection end). Thread-safe.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", fps: float = 5.0,
                 size: Tuple[int, int] = (320, 240)) -> None:
        self.host, self.port, self.fps, self.size = host, port, fps, size
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._attempts: Dict[str, int] = collections.Counter()
        self._clients: Set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> HostileCameraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> HostileCameraServer:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self.started = time.monotonic()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name=f"hostile-camera-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def url(self, path: str = "/valid") -> str:
        return f"http://{self.host}:{self.port}{path}"

    # -- attempts -------------------------------------------------------------------------
    def attempts(self, path: str) -> int:
        """Requests for ``path`` (no query) since the start or ``reset_stats``."""
        with self._lock:
            return self._attempts[path]

    def stats(self) -> Dict[str, Any]:
        """What ``/_stats`` answers."""
        with self._lock:
            return {"attempts": dict(self._attempts)}

    def reset_stats(self) -> None:
        with self._lock:
            self._attempts.clear()

    def connected(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._clients)

    # -- serving (the handler's side) -----------------------------------------------------
    def _serve(self, sock: socket.socket, target: str) -> Optional[Tuple[int, str]]:
        """Serve ``target`` on ``sock``; an error (status, one line) for the handler, or
        ``None`` when served."""
        path, _, query = target.partition("?")
        with self._lock:
            self._attempts[path] += 1
            self._clients.add(sock)
        try:
            entry = PATHS.get(path)
            if entry is None:
                return 404, f"no path {path[:80]}: GET / lists them"
            entry.serve(Connection(sock, query, self._stopping, self.started, self.fps,
                                   self.size))
        except BadQuery as err:
            return 400, str(err)
        except Gone:
            pass
        finally:
            with self._lock:
                self._clients.discard(sock)
        return None

    def index(self) -> str:
        lines = [f"hostile camera on {self.url('')}: every path is a camera URL", ""]
        lines += [f"{path:24} {summary}" for path, summary in path_summaries()]
        lines.append(f"{STATS_PATH:24} JSON attempts per path")
        return "\n".join(lines) + "\n"


def _handler_for(camera: HostileCameraServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a hostile camera is asked a lot."""

        def do_GET(self) -> None:
            if self.path in ("/", STATS_PATH):
                text = (camera.index() if self.path == "/" else json.dumps(camera.stats()))
                self._answer(200, text, "text/plain" if self.path == "/" else
                             "application/json")
                return
            failure = camera._serve(self.connection, self.path)
            if failure is not None:
                with contextlib.suppress(OSError):
                    self._answer(failure[0], failure[1] + "\n", "text/plain")

        def _answer(self, status: int, text: str, kind: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_cameras.hostile_cameras",
        description="Serve every kind of bad camera stream, one per path, on loopback.")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--fps", type=float, default=5.0, help="rate of the paced streams")
    parser.add_argument("--width", type=int, default=320, help="of the genuine frames")
    parser.add_argument("--height", type=int, default=240)
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("--host must be a loopback address (127.x.x.x)")
    if not (args.fps > 0 and args.width > 0 and args.height > 0):
        parser.error("--fps, --width and --height must be positive")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        server = HostileCameraServer(args.port, args.host, args.fps, (args.width, args.height))
        server.start()
    except OSError as err:
        parser.error(f"cannot listen on {args.host}:{args.port} ({err.strerror}): "
                     "choose another --port")
    with server:
        print(f"hostile camera ready: {server.url('/')} lists the paths", flush=True)
        stopping.wait()
    return 0


def jpeg_bomb_camera(fps: float = 5.0, declared=BOMB_SIZE, **options: Any) -> FakeIPCamera:
    """16x16 frames declaring ``declared`` (width, height) in their header."""
    width, height = declared
    return FakeIPCamera(width=16, height=16, fps=fps,
                        shape=lambda jpeg: with_declared_size(jpeg, width, height), **options)


def truncated_camera(width: int = 640, height: int = 480, fps: float = 10.0,
                     **options: Any) -> FakeIPCamera:
    """Frames cut in the middle of their image data."""
    return FakeIPCamera(width=width, height=height, fps=fps,
                        shape=lambda jpeg: uvc_frame(jpeg, "truncated"), **options)


def huge_camera(size: int = 8000, fps: float = 1.0, **options: Any) -> FakeIPCamera:
    """Genuine ``size`` x ``size`` frames (the same picture each time: rendering 64
    megapixels per frame would take a second of CPU)."""
    return FakeIPCamera(width=size, height=size, fps=fps, still=True, **options)


if __name__ == "__main__":
    sys.exit(main())
