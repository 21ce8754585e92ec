"""Read JPEG frames from an HTTP(S) camera without decoding them.

``HttpJpegStream`` connects once and then yields the camera's JPEG bytes untouched:
- ``multipart/x-mixed-replace`` (MJPEG streams): one part per frame, with or without a
  ``Content-Length`` header per part;
- ``image/jpeg`` (snapshot URLs): the URL is fetched again for every frame.

Credentials in the URL (``http://user:pass@host/...``) are sent with HTTP basic or digest
authentication, whichever the camera asks for, and never appear in messages: every error
names the camera by ``redaction.redact_url`` (credentials are split off by
``redaction.split_url``, which copes with unencoded ``#/?@:`` in a password). Every socket
read has a timeout, so a stalled camera raises instead of blocking forever. Proxies from
the environment are ignored (cameras are on the robot's local network).

What a camera may send is bounded by ``camera_limits`` (the one place of those limits): the
HTTP head by ``http.client``, the parts by ``multipart_reader.MultipartReader`` (one reused
buffer, limits applied before anything proportional to the input is kept, a byte-rate
floor), a snapshot by the same part size and floor.

``arrival`` is the frame's acquisition time, wall-clock seconds (``time.time()``'s clock):
- a stream over plain HTTP on Linux: the kernel's receive time (``SO_TIMESTAMPNS``, read
  with ``recvmsg_into``: ``socket_times``) of the network segment that brought the first
  byte of the frame's JPEG - exactly, when the reader keeps up; when it runs late, the
  kernel has merged that segment with those that came while it waited (at most 17
  segments, 64 KiB on loopback) and tells the newest one's time, never the time of the
  late read (how the reads are kept short: ``multipart_reader``);
- where the kernel does not tell (HTTPS: ``ssl.SSLSocket`` has no ``recvmsg``; chunked
  responses, read through ``http.client``; not Linux; the bytes ``http.client`` read with
  the HTTP head, i.e. some of the first frame): the wall clock as the read that brought the
  first byte returned, which includes the reading thread's scheduling delay;
- snapshot URLs: the wall clock once the response's head was read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, List, Optional, Tuple

from camera_service.core.redaction import redact_url, split_url
from camera_service.sources.camera_limits import (
    DEFAULT_LIMITS,
    HTTP_HEADER_LINE,
    HTTP_HEADER_LINES,
    CameraLimits,
)
from camera_service.sources.multipart_reader import (
    MultipartReader,
    ReadTime,
    Receive,
    StreamError,
)
from camera_service.sources.socket_times import TimedReceive

__all__ = ["HttpJpegStream", "StreamError"]


def _opener(url: str, verify_tls: bool) -> Tuple[urllib.request.OpenerDirector, str]:
    parts = split_url(url)
    bare, username, password = parts.bare, parts.user, parts.password
    handlers: List[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if username is not None:
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, bare, username, password or "")  # a user alone: no password
        handlers += [urllib.request.HTTPBasicAuthHandler(manager),
                     urllib.request.HTTPDigestAuthHandler(manager)]
    if not verify_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers), bare


def _receiver(response: http.client.HTTPResponse) -> Tuple[Receive, Optional[ReadTime]]:
    """``receive(view)`` for the body of ``response`` (at most one socket read into
    ``view``), and ``read_time()``: the kernel's receive time of what the last receive
    returned, ``None`` when unknown (``read_time`` itself ``None`` where the socket cannot
    tell: see the module doc). The bytes ``http.client`` buffered with the head come first
    (no kernel time: taken at the first call in one piece, as ``read1`` returns every
    buffered byte without touching the socket); then the socket is read straight into ``view``
    (``BufferedReader.readinto1`` would read the socket even with bytes buffered, blocking
    on a camera that paused). Chunked transfer encoding goes through ``http.client``, which
    undoes it."""
    if response.chunked:
        def receive_chunked(view: memoryview) -> int:
            data = response.read1(len(view))
            view[:len(data)] = data
            return len(data)
        return receive_chunked, None
    buffered = response.fp
    raw = buffered.raw
    timed = TimedReceive.for_socket(getattr(raw, "_sock", None))  # SocketIO's socket
    pending: Optional[memoryview] = None  # what http.client read with the head

    def receive(view: memoryview) -> int:
        nonlocal pending
        if pending is None:  # every byte buffered (read1 returns only those), else one read
            pending = memoryview(buffered.read1())
        if pending:
            count = min(len(view), len(pending))
            view[:count], pending = pending[:count], pending[count:]
            if timed is not None:
                timed.time = None
            return count
        if timed is not None:
            return timed(view)
        return raw.readinto(view) or 0
    if timed is None:
        return receive, None
    return receive, lambda: timed.time


def _low_water(response: http.client.HTTPResponse) -> Optional[Callable[[int], None]]:
    """Sets the receive low-water mark (``SO_RCVLOWAT``) of the response's socket: the
    reader then wakes once per ``n`` bytes of a frame, not once per network segment. ``None``
    for chunked responses (their framing is http.client's) or where it cannot be set."""
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)  # SocketIO's socket
    if response.chunked or not isinstance(sock, socket.socket) or \
            not hasattr(socket, "SO_RCVLOWAT"):
        return None

    def set_low_water(count: int) -> None:
        with contextlib.suppress(OSError):  # a closed socket: the next read says so
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, count)
    return set_low_water


class HttpJpegStream:
    """An open HTTP connection to a camera, yielding JPEG bytes (see module doc).

    Construction connects and raises ``StreamError(while_connecting=True)`` with the reason;
    ``next_jpeg`` raises ``StreamError`` when the stream ends, stalls past ``timeout``,
    breaks a ``limits`` bound or is not JPEG. ``close`` is idempotent. One thread at a time.
    """

    def __init__(self, url: str, timeout: float = 5.0, verify_tls: bool = True,
                 limits: CameraLimits = DEFAULT_LIMITS) -> None:
        self.shown_url = redact_url(url)
        self.timeout = timeout
        self.limits = limits
        self.arrival = 0.0
        self._opener, self._bare_url = _opener(url, verify_tls)
        self._response: Optional[http.client.HTTPResponse] = None
        self._parts: Optional[MultipartReader] = None
        self._snapshot: Optional[bytes] = None
        response = self._connect()
        content_type = response.headers.get_content_type()
        if content_type.startswith("multipart/"):
            boundary = response.headers.get_param("boundary")
            if not isinstance(boundary, str) or not boundary.strip('"').strip("-"):
                response.close()
                raise StreamError(f"camera at {self.shown_url} sent a multipart stream "
                                  "without a boundary", while_connecting=True)
            self._response = response
            receive, read_time = _receiver(response)
            self._parts = MultipartReader(receive, boundary.encode("latin-1"),
                                          self.shown_url, limits, window=timeout,
                                          low_water=_low_water(response),
                                          read_time=read_time)
        elif content_type == "image/jpeg":
            self._snapshot = self._read_snapshot(response)
        else:
            response.close()
            raise StreamError(f"camera at {self.shown_url} sent {content_type}, not MJPEG or "
                              "JPEG: check the stream path in 'url'", while_connecting=True)

    @property
    def is_snapshot(self) -> bool:
        """True when the URL serves single JPEGs (polled) rather than a stream."""
        return self._parts is None

    def _connect(self) -> http.client.HTTPResponse:
        try:
            return self._opener.open(self._bare_url, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            err.close()
            hint = {401: "fix the user:password in 'url'", 403: "the account may not view it",
                    404: "check the stream path in 'url'"}.get(err.code, "check the camera")
            raise StreamError(f"camera at {self.shown_url} answered HTTP {err.code} "
                              f"{err.reason}: {hint}", while_connecting=True,
                              refused=err.code in (401, 403)) from None
        except urllib.error.URLError as err:
            raise StreamError(f"cannot reach camera at {self.shown_url}: {err.reason}; check "
                              "the address and that it is on the network",
                              while_connecting=True) from None
        except http.client.HTTPException as err:
            raise StreamError(f"camera at {self.shown_url} sent a malformed HTTP response "
                              f"({str(err)[:80] or type(err).__name__}); HTTP heads are "
                              f"limited to {HTTP_HEADER_LINES} lines of "
                              f"{HTTP_HEADER_LINE // 1024} KiB", while_connecting=True) from None
        except OSError as err:
            raise StreamError(f"cannot reach camera at {self.shown_url}: {err}",
                              while_connecting=True) from None

    def _read_snapshot(self, response: http.client.HTTPResponse) -> bytes:
        """The whole body of a snapshot response, bounded like a part (size and pace)."""
        limits, total = self.limits, 0
        chunks: List[bytes] = []
        started = time.monotonic()
        self.arrival = time.time()
        try:
            with response:
                while True:
                    chunk = response.read1(65536)
                    if not chunk:
                        return b"".join(chunks)
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > limits.part_bytes:
                        raise StreamError(f"camera at {self.shown_url} sent a snapshot over "
                                          f"the {limits.part_bytes}-byte limit")
                    span = time.monotonic() - started
                    if span > self.timeout and total < limits.min_bytes_per_second * span:
                        raise StreamError(f"camera at {self.shown_url} sent {total} bytes in "
                                          f"{span:.1f} s (under "
                                          f"{limits.min_bytes_per_second:.0f} bytes/s): check "
                                          "its network link")
        except (OSError, http.client.HTTPException) as err:
            raise StreamError(f"camera at {self.shown_url}: snapshot failed: {err}") from None

    def next_jpeg(self) -> bytes:
        """The next frame's JPEG bytes, exactly as the camera sent them."""
        if self._snapshot is not None:
            jpeg, self._snapshot = self._snapshot, None
            return jpeg
        parts = self._parts
        if parts is None:
            return self._read_snapshot(self._connect_again())
        if self._response is None:
            raise StreamError(f"stream from {self.shown_url} is closed")
        try:
            jpeg = parts.next_part()
        except (OSError, http.client.HTTPException, ValueError) as err:
            raise StreamError(f"stream from {self.shown_url} stopped: "
                              f"{err or type(err).__name__}") from None
        self.arrival = parts.arrival
        return jpeg

    def _connect_again(self) -> http.client.HTTPResponse:
        try:
            return self._connect()
        except StreamError as err:
            raise StreamError(str(err)) from None  # lost after it worked: not a connect fault

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()
