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
"""

from __future__ import annotations

import email.message
import http.client
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import List, Optional, Tuple

from camera_service.core.redaction import redact_url, split_url

# Parts larger than this are not camera frames (protects memory from a broken stream).
MAX_PART_BYTES = 32 * 1024 * 1024
# Bytes of non-delimiter lines tolerated before deciding the stream is not multipart.
_MAX_SKIP_BYTES = 1024 * 1024


class StreamError(Exception):
    """The connection could not be made or stopped delivering; message is one line, no
    credentials. ``while_connecting`` tells the two apart."""

    def __init__(self, message: str, while_connecting: bool = False) -> None:
        super().__init__(message)
        self.while_connecting = while_connecting


def _opener(url: str, verify_tls: bool) -> Tuple[urllib.request.OpenerDirector, str]:
    parts = split_url(url)
    bare, username, password = parts.bare, parts.user, parts.password
    handlers: List[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if username is not None:
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, bare, username, password)
        handlers += [urllib.request.HTTPBasicAuthHandler(manager),
                     urllib.request.HTTPDigestAuthHandler(manager)]
    if not verify_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers), bare


class HttpJpegStream:
    """An open HTTP connection to a camera, yielding JPEG bytes (see module doc).

    Construction connects and raises ``StreamError(while_connecting=True)`` with the reason;
    ``next_jpeg`` raises ``StreamError`` when the stream ends, stalls past ``timeout`` or
    is not JPEG. ``close`` is idempotent. One thread at a time.
    """

    def __init__(self, url: str, timeout: float = 5.0, verify_tls: bool = True) -> None:
        self.shown_url = redact_url(url)
        self.timeout = timeout
        self._opener, self._bare_url = _opener(url, verify_tls)
        self._response: Optional[http.client.HTTPResponse] = None
        self._boundary = b""
        self._snapshot: Optional[bytes] = None
        self._pending_delimiter = False  # a part without length consumed the next delimiter
        self._ended = False  # the closing delimiter was seen
        response = self._connect()
        content_type = response.headers.get_content_type()
        if content_type.startswith("multipart/"):
            boundary = response.headers.get_param("boundary")
            if not isinstance(boundary, str) or not boundary:
                response.close()
                raise StreamError(f"camera at {self.shown_url} sent a multipart stream "
                                  "without a boundary", while_connecting=True)
            self._boundary = boundary.strip('"').lstrip("-").encode("latin-1")
            self._response = response
        elif content_type == "image/jpeg":
            self._snapshot = self._read_snapshot(response)
        else:
            response.close()
            raise StreamError(f"camera at {self.shown_url} sent {content_type}, not MJPEG or "
                              "JPEG: check the stream path in 'url'", while_connecting=True)

    @property
    def is_snapshot(self) -> bool:
        """True when the URL serves single JPEGs (polled) rather than a stream."""
        return not self._boundary

    def _connect(self) -> http.client.HTTPResponse:
        try:
            return self._opener.open(self._bare_url, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            err.close()
            hint = {401: "fix the user:password in 'url'", 403: "the account may not view it",
                    404: "check the stream path in 'url'"}.get(err.code, "check the camera")
            raise StreamError(f"camera at {self.shown_url} answered HTTP {err.code} "
                              f"{err.reason}: {hint}", while_connecting=True) from None
        except urllib.error.URLError as err:
            raise StreamError(f"cannot reach camera at {self.shown_url}: {err.reason}; check "
                              "the address and that it is on the network",
                              while_connecting=True) from None
        except (OSError, http.client.HTTPException) as err:
            raise StreamError(f"cannot reach camera at {self.shown_url}: {err}",
                              while_connecting=True) from None

    def _read_snapshot(self, response: http.client.HTTPResponse) -> bytes:
        try:
            with response:
                return self._checked(response.read(MAX_PART_BYTES + 1))
        except (OSError, http.client.HTTPException) as err:
            raise StreamError(f"camera at {self.shown_url}: snapshot failed: {err}") from None

    def _checked(self, part: bytes) -> bytes:
        """The part as sent (whether it is a good JPEG is the capture loop's frame hygiene's
        call), unless it is too large to be a frame."""
        if len(part) > MAX_PART_BYTES:
            raise StreamError(f"camera at {self.shown_url} sent a {len(part)}-byte part")
        return part

    def next_jpeg(self) -> bytes:
        """The next frame's JPEG bytes, exactly as the camera sent them."""
        if self._snapshot is not None:
            jpeg, self._snapshot = self._snapshot, None
            return jpeg
        if self.is_snapshot:
            return self._read_snapshot(self._connect_again())
        try:
            return self._checked(self._next_part())
        except (OSError, http.client.HTTPException, ValueError) as err:
            raise StreamError(f"stream from {self.shown_url} stopped: "
                              f"{err or type(err).__name__}") from None

    def _connect_again(self) -> http.client.HTTPResponse:
        try:
            return self._connect()
        except StreamError as err:
            raise StreamError(str(err)) from None  # lost after it worked: not a connect fault

    def _next_part(self) -> bytes:
        response = self._response
        if response is None:
            raise StreamError(f"stream from {self.shown_url} is closed")
        self._check_not_ended()
        if self._pending_delimiter:
            self._pending_delimiter = False
        else:
            self._skip_to_delimiter(response)
        headers = email.message.Message()
        while True:
            line = response.readline(65536)
            if not line:
                raise StreamError(f"stream from {self.shown_url} ended")
            if not line.strip():
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip()] = value.strip()
        length = headers.get("Content-Length")
        if length is not None and length.strip().isdigit():
            size = int(length)
            if size > MAX_PART_BYTES:
                raise StreamError(f"camera at {self.shown_url} sent a {size}-byte part")
            body = response.read(size)
            if len(body) < size:
                raise StreamError(f"stream from {self.shown_url} ended inside a frame")
            return body
        return self._read_until_delimiter(response)

    def _delimiter(self, line: bytes) -> Optional[str]:
        """``"next"`` for a part delimiter, ``"last"`` for the closing one, else ``None``."""
        stripped = line.strip()
        if not stripped.startswith(b"--"):
            return None
        name = stripped.lstrip(b"-")
        if name == self._boundary:
            return "next"
        if name == self._boundary + b"--":
            return "last"
        return None

    def _check_not_ended(self) -> None:
        if self._ended:
            raise StreamError(f"camera at {self.shown_url} ended the stream")

    def _skip_to_delimiter(self, response: http.client.HTTPResponse) -> None:
        skipped = 0
        while True:
            line = response.readline(65536)
            if not line:
                raise StreamError(f"stream from {self.shown_url} ended")
            kind = self._delimiter(line)
            if kind == "last":
                self._ended = True
                self._check_not_ended()
            if kind == "next":
                return
            skipped += len(line)
            if skipped > _MAX_SKIP_BYTES:
                raise StreamError(f"camera at {self.shown_url} sends no multipart delimiters")

    def _read_until_delimiter(self, response: http.client.HTTPResponse) -> bytes:
        """A part without Content-Length: everything up to the CRLF before the next
        delimiter (the delimiter is put back so the next call finds it)."""
        lines: List[bytes] = []
        total = 0
        while True:
            line = response.readline(65536)
            if not line:
                raise StreamError(f"stream from {self.shown_url} ended")
            kind = self._delimiter(line) if line.startswith(b"--") else None
            if kind is not None:
                self._pending_delimiter = kind == "next"
                self._ended = kind == "last"
                break
            lines.append(line)
            total += len(line)
            if total > MAX_PART_BYTES:
                raise StreamError(f"camera at {self.shown_url} sent an oversized part")
        body = b"".join(lines)
        return body[:-2] if body.endswith(b"\r\n") else body.rstrip(b"\n")

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()
