"""A stand-in RTSP camera that answers ``DESCRIBE`` only (no media): enough to check what the
service says when FFmpeg cannot open a camera's stream. ``RtspAnswers(paths, user=...,
password=...)`` serves an SDP naming ``codec`` for each path in ``paths``, 404 for other paths,
and asks for Digest authentication when a user is set (401 until the right response comes).

    with RtspAnswers({"/stream1"}, user="admin", password="p#ss") as camera:
        camera.url("/stream1")  # rtsp://127.0.0.1:PORT/stream1
"""

from __future__ import annotations

import hashlib
import re
import socketserver
import threading
from typing import Iterable, Optional

REALM = "fake-camera"
NONCE = "0123456789abcdef"


class RtspAnswers:
    """The stand-in (see module doc); ``described`` counts DESCRIBE requests answered 200."""

    def __init__(self, paths: Iterable[str], user: Optional[str] = None,
                 password: str = "", codec: str = "H265") -> None:
        self.paths, self.user, self.password, self.codec = set(paths), user, password, codec
        self.described = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while True:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = self.rfile.readline(4096)
                        if not line:
                            return
                        head += line
                    self.wfile.write(outer._answer(head.decode("latin-1")))

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, credentials: str = "") -> str:
        where = f"{credentials}@" if credentials else ""
        return f"rtsp://{where}127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> RtspAnswers:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, head: str) -> bytes:
        request = re.match(r"^DESCRIBE (\S+) RTSP/1\.0", head)
        cseq = (re.search(r"CSeq: (\d+)", head) or re.search(r"()", ""))[1] or "0"
        if request is None:
            return _reply(400, "Bad Request", cseq)
        uri = request.group(1)
        if self.user is not None and not self._authorized(head, uri):
            return _reply(401, "Unauthorized", cseq,
                          f'WWW-Authenticate: Digest realm="{REALM}", nonce="{NONCE}"\r\n')
        path = "/" + uri.split("/", 3)[3] if uri.count("/") >= 3 else "/"
        if path not in self.paths:
            return _reply(404, "Not Found", cseq)
        self.described += 1
        sdp = (f"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 {self.codec}/90000\r\n").encode()
        return _reply(200, "OK", cseq, "Content-Type: application/sdp\r\n", sdp)

    def _authorized(self, head: str, uri: str) -> bool:
        given = re.search(r'Authorization: Digest .*response="([0-9a-f]+)"', head)
        if given is None:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{self.user}:{REALM}:{self.password}")
        return given.group(1) == md5(f"{ha1}:{NONCE}:{md5(f'DESCRIBE:{uri}')}")


def _reply(code: int, reason: str, cseq: str, headers: str = "", body: bytes = b"") -> bytes:
    return (f"RTSP/1.0 {code} {reason}\r\nCSeq: {cseq}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
