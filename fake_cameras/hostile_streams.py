"""What each path of the hostile camera server sends (``fake_cameras.hostile_cameras`` serves
them and documents the paths).

A handler gets a ``Connection`` (the raw socket side of one request: writes, pacing, query
parameters, abort) and writes whatever the bad camera it plays would write; it returns or
raises ``Gone`` when the client left or the server stops. ``PATHS`` maps each path to its
one-line summary and handler; ``path_summaries()`` lists them in order.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time
import urllib.parse
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np
from camera_service.sources.synthetic import render_test_pattern

from fake_cameras.image_bombs import BOMB_SIZE, available_formats, declared_frame, png_bomb

BOUNDARY = "hostileframe"
JUNK_LINE_BYTES = 1000  # of 'a' in each X-Junk-N line (?line=N)
DECLARED_HUGE = 1 << 40  # the Content-Length /length-huge claims (?declared=N)
_BLOCK = 64 * 1024


class Gone(Exception):
    """The client went away, or the server is stopping."""


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message says which and why (one line)."""


class Connection:
    """One request's connection, for the path handlers. Not thread-safe (one handler)."""

    def __init__(self, sock: socket.socket, query: str, stopping: threading.Event,
                 started: float, fps: float, size: Tuple[int, int]) -> None:
        self.sock = sock
        self.query = dict(urllib.parse.parse_qsl(query))
        self.stopping = stopping
        self.started = started  # the server's start (time.monotonic), the flapping clock
        self.fps = fps
        self.size = size
        self.sent = 0

    # -- query parameters ---------------------------------------------------------------
    def number(self, name: str, default: float, maximum: float = 1e12) -> float:
        """Query parameter ``name`` as a number in (0, ``maximum``], else ``default``."""
        text = self.query.get(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value <= maximum:
            raise BadQuery(f"?{name}= must be a number above 0 and at most {maximum:g}, "
                           f"got {text[:40]!r}")
        return value

    def dimensions(self, name: str, default: Tuple[int, int]) -> Tuple[int, int]:
        """Query parameter ``name`` as ``WIDTHxHEIGHT`` (1..65535 each), else ``default``."""
        text = self.query.get(name)
        if text is None:
            return default
        width, _, height = text.partition("x")
        if not (width.isdigit() and height.isdigit()
                and 0 < int(width) < 65536 and 0 < int(height) < 65536):
            raise BadQuery(f"?{name}= must be WIDTHxHEIGHT such as 16000x16000, "
                           f"got {text[:40]!r}")
        return int(width), int(height)

    # -- writing ------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.stopping.is_set():
            raise Gone
        try:
            self.sock.sendall(data)
        except OSError:
            raise Gone from None
        self.sent += len(data)

    def response(self, status: str = "200 OK", headers: Tuple[str, ...] = ()) -> None:
        """A complete HTTP response head (``headers`` as ``"Name: value"`` lines)."""
        lines = [f"HTTP/1.0 {status}", *headers, "", ""]
        self.write("\r\n".join(lines).encode("latin-1"))

    def multipart(self) -> None:
        """The head of an MJPEG stream response."""
        self.response(headers=(
            f"Content-Type: multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control: no-cache"))

    def part(self, body: bytes, length: Optional[int] = None) -> None:
        """One part labelled ``image/jpeg`` whose Content-Length says ``length`` (default:
        the truth)."""
        self.write(part_bytes(body, len(body) if length is None else length))

    # -- time ---------------------------------------------------------------------------
    def pause(self, seconds: float) -> None:
        """Wait ``seconds``; raises ``Gone`` when the server stops meanwhile."""
        if self.stopping.wait(seconds):
            raise Gone

    def hold(self) -> None:
        """Keep the connection open, sending nothing, until the server stops."""
        self.stopping.wait()
        raise Gone

    def frames(self, fps: float) -> Iterator[int]:
        """Frame numbers 1, 2, ... at ``fps`` (no bursts after a slow write)."""
        period, due = 1.0 / fps, time.monotonic()
        for sequence in itertools.count(1):
            yield sequence
            due = max(due + period, time.monotonic())
            self.pause(due - time.monotonic())

    def is_up(self, period: float) -> bool:
        """The flapping camera's state: up during even periods since the server started."""
        return int((time.monotonic() - self.started) / period) % 2 == 0

    def abort(self) -> None:
        """Reset the connection (RST, no goodbye: a camera that dropped off the network)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise Gone


def part_bytes(body: bytes, length: int) -> bytes:
    """A multipart part: delimiter, headers (Content-Length ``length``), ``body``, CRLF."""
    head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n")
    return head.encode() + body + b"\r\n"


def valid_jpeg(width: int, height: int, sequence: int) -> bytes:
    """A genuine test-pattern JPEG (frame ``sequence`` of the synthetic camera)."""
    image = render_test_pattern(width, height, sequence, time.time())
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()


def garbage(sequence: int) -> bytes:
    """1..64 KiB of random bytes, the same for the same ``sequence``."""
    rng = np.random.default_rng(sequence)
    return rng.integers(0, 256, int(rng.integers(1024, 65537)), np.uint8).tobytes()


# -- the paths --------------------------------------------------------------------------
def _valid(c: Connection) -> None:
    fps = c.number("fps", c.fps)
    c.multipart()
    for sequence in c.frames(fps):
        c.part(valid_jpeg(*c.size, sequence))


def _junk_lines(c: Connection, junk: bytes) -> None:
    """``X-Junk-N: <junk>`` header lines forever, as fast as the client reads."""
    numbers = itertools.count(1)
    while True:
        c.write(b"".join(b"X-Junk-%d: %s\r\n" % (next(numbers), junk) for _ in range(64)))


def _junk(c: Connection) -> bytes:
    return b"a" * int(c.number("line", JUNK_LINE_BYTES, maximum=1 << 20))


def _endless_part_header(c: Connection) -> None:
    junk = _junk(c)
    c.multipart()
    c.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n".encode())
    _junk_lines(c, junk)


def _endless_header_line(c: Connection) -> None:
    c.multipart()
    c.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nX-Junk: ".encode())
    block = b"a" * _BLOCK
    while True:
        c.write(block)


def _endless_http_header(c: Connection) -> None:
    junk = _junk(c)
    c.write(f"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; "
            f"boundary={BOUNDARY}\r\n".encode())
    _junk_lines(c, junk)


def _lying_length(declared: Callable[[Connection, bytes], int]) -> Callable[[Connection], None]:
    def serve(c: Connection) -> None:
        fps = c.number("fps", c.fps)
        declared(c, b"")  # a bad query is refused before the stream starts
        c.multipart()
        for sequence in c.frames(fps):
            jpeg = valid_jpeg(*c.size, sequence)
            c.part(jpeg, declared(c, jpeg))
    return serve


def _no_boundary(c: Connection) -> None:
    c.multipart()
    c.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode())
    jpeg = valid_jpeg(*c.size, 1)
    frames = jpeg * max(1, _BLOCK // len(jpeg))
    while True:
        c.write(frames)


def _repeated(frame: Callable[[Connection], bytes]) -> Callable[[Connection], None]:
    """A stream (at ?fps=) whose every part is ``frame(c)``, labelled image/jpeg."""
    def serve(c: Connection) -> None:
        data, fps = frame(c), c.number("fps", c.fps)
        c.multipart()
        for _ in c.frames(fps):
            c.part(data)
    return serve


def _garbage(c: Connection) -> None:
    fps = c.number("fps", c.fps)
    c.multipart()
    for sequence in c.frames(fps):
        c.part(garbage(sequence))


def _drip(c: Connection) -> None:
    delay = 1.0 / c.number("rate", 1.0)
    c.multipart()
    for sequence in itertools.count(1):
        jpeg = valid_jpeg(*c.size, sequence)
        for byte in part_bytes(jpeg, len(jpeg)):
            c.write(bytes((byte,)))
            c.pause(delay)


def _flap(c: Connection) -> None:
    period, fps = c.number("period", 1.0), c.number("fps", c.fps)
    if not c.is_up(period):
        c.abort()
    c.multipart()
    for sequence in c.frames(fps):
        if not c.is_up(period):
            c.abort()
        c.part(valid_jpeg(*c.size, sequence))


def _refusing(status: str, *headers: str) -> Callable[[Connection], None]:
    def serve(c: Connection) -> None:
        body = f"{status}\n".encode()
        c.response(status, (*headers, "Content-Type: text/plain",
                            f"Content-Length: {len(body)}"))
        c.write(body)
    return serve


def _slow_loris(c: Connection) -> None:
    c.multipart()
    jpeg = valid_jpeg(*c.size, 1)
    c.write(part_bytes(jpeg, len(jpeg))[:-(len(jpeg) // 2 + 2)])
    c.hold()


class Path(NamedTuple):
    summary: str
    serve: Callable[[Connection], None]


def _bomb_paths() -> Dict[str, Path]:
    paths = {"/png-bomb": Path(
        "every frame a valid PNG of 16000x16000 black pixels (760 kB, 768 MB decoded) "
        "labelled image/jpeg (?size=WxH, ?fps=)",
        _repeated(lambda c: png_bomb(*c.dimensions("size", BOMB_SIZE))))}
    for fmt in available_formats():
        if fmt != "png":
            paths[f"/{fmt}-bomb"] = Path(
                f"a small {fmt.upper()} frame whose header declares 16000x16000, labelled "
                "image/jpeg (?size=WxH, ?fps=)",
                _repeated(lambda c, fmt=fmt: declared_frame(fmt, *c.dimensions("size",
                                                                               BOMB_SIZE))))
    return paths


def _all_paths() -> Dict[str, Path]:
    return {
        "/valid": Path("a genuine MJPEG stream (?fps=N, default the server's --fps)", _valid),
        "/endless-part-header": Path(
            "a part header of X-Junk-N: aaa... lines forever (?line=N bytes of a)",
            _endless_part_header),
        "/endless-header-line": Path("a part header line that never ends (no newline ever)",
                                     _endless_header_line),
        "/endless-http-header": Path(
            "an HTTP response head of X-Junk-N lines that never ends (?line=N)",
            _endless_http_header),
        "/length-huge": Path(
            "parts declaring Content-Length 2**40 (?declared=N), genuine frames follow",
            _lying_length(lambda c, jpeg: int(c.number("declared", DECLARED_HUGE,
                                                       maximum=1 << 62)))),
        "/length-short": Path("parts declaring half their real length",
                              _lying_length(lambda c, jpeg: len(jpeg) // 2)),
        "/no-boundary": Path("one part without Content-Length whose delimiter never comes: "
                             "JPEG frames back to back forever", _no_boundary),
        **_bomb_paths(),
        "/garbage": Path("parts of 1-64 KiB random bytes labelled image/jpeg (?fps=)", _garbage),
        "/drip": Path("a genuine stream whose body comes 1 byte a second (?rate=bytes/s)",
                      _drip),
        "/flap": Path("genuine frames for 1 s, then connections reset for 1 s, and so on "
                      "(?period=seconds)", _flap),
        "/slow-loris": Path("half a frame, then nothing, the connection held open forever",
                            _slow_loris),
        "/401": Path("HTTP 401 asking for basic authentication",
                     _refusing("401 Unauthorized", 'WWW-Authenticate: Basic realm="hostile"')),
        "/403": Path("HTTP 403", _refusing("403 Forbidden")),
        "/404": Path("HTTP 404", _refusing("404 Not Found")),
    }


PATHS: Dict[str, Path] = _all_paths()


def path_summaries() -> List[Tuple[str, str]]:
    """(path, summary) of every path, in serving order."""
    return [(path, entry.summary) for path, entry in PATHS.items()]
