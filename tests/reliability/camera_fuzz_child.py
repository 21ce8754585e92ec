"""The camera-bytes fuzz run, in its own process (``test_fuzz_camera_bytes`` puts it in a
512 MiB memory cgroup and samples its RSS).

Hypothesis generates whole camera responses - HTTP heads (status, content type, boundary,
junk lines up to 64 KiB), multipart framing (delimiters right and wrong, part headers with
true, lying, huge or garbage lengths, endless junk lines), bodies (real JPEGs, JPEGs
declaring 30000x30000, cut JPEGs, PNG bombs, small frames of other formats declaring
16000x16000 - the bombs often -, random bytes, runs of zeros past the part limit) and how
the stream ends - and a loopback server sends each, in generated chunk sizes, to a ``url``
camera source, which opens it and reads up to five frames.

Output, one line each: ``SEED <n>``, then per example ``READ <frames>`` or ``REFUSED
<the one-line reason>``; anything else (a traceback, ``CRASH``) fails the test.
``CAMERA_FUZZ_EXAMPLES`` (default 60) and ``CAMERA_FUZZ_SEED`` choose the run.
"""

from __future__ import annotations

import os
import random
import socket
import sys
import threading
from typing import List, Tuple

import cv2
import numpy as np
from camera_service.core.errors import SourceError, SourceUnavailable
from camera_service.sources.base import SourceSettings
from camera_service.sources.url import UrlSource
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from fake_cameras.image_bombs import available_formats, declared_frame, png_bomb
from fake_cameras.uvc_frames import with_declared_size

MIB = 1024 * 1024
JPEG = cv2.imencode(".jpg", np.full((24, 32, 3), 90, np.uint8))[1].tobytes()
OTHER_FORMATS = [declared_frame(fmt, 16000, 16000) for fmt in available_formats()
                 if fmt not in ("jpeg", "png")]


class OneShotServer:
    """Loopback server: each connection gets the current payload in the current chunk
    sizes, then the connection is closed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/video"
        self.payload = b""
        self.chunk = 65536
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self._send, args=(conn, self.payload, self.chunk),
                             daemon=True).start()

    @staticmethod
    def _send(conn: socket.socket, payload: bytes, chunk: int) -> None:
        with conn:
            try:
                conn.recv(65536)
                view = memoryview(payload)
                for start in range(0, len(payload), chunk):
                    conn.sendall(view[start:start + chunk])
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                return


def _junk(count: int, length: int) -> bytes:
    return b"".join(b"X-Junk-%d: %s\r\n" % (n, b"a" * length) for n in range(count))


bombs = st.one_of(
    st.builds(png_bomb, *[st.sampled_from([16000, 64])] * 2),
    st.sampled_from(OTHER_FORMATS or [JPEG]),
)
bodies = st.one_of(
    st.just(JPEG),
    bombs,
    bombs,  # image bombs as often as anything else
    st.builds(lambda size: with_declared_size(JPEG, *size),
              st.sampled_from([(30000, 30000), (32, 24), (1, 65535)])),
    st.builds(lambda cut: JPEG[:cut], st.integers(0, len(JPEG))),
    st.binary(max_size=4096),
    st.builds(lambda n: bytes(n), st.integers(0, 40 * MIB)),
)
bodies = st.one_of(st.just(JPEG), bodies)  # a genuine frame about half the time
def mostly(usual: bytes, others: List[bytes]) -> st.SearchStrategy[bytes]:
    """``usual`` about three times in four, else one of ``others``."""
    return st.integers(0, 3).flatmap(lambda n: st.just(usual) if n else st.sampled_from(others))


lengths = st.sampled_from(["true", "absent", "half", "double", "huge", "garbage", "negative"])


@st.composite
def parts(draw) -> bytes:
    body = draw(bodies)
    delimiter = draw(mostly(b"--B", [b"----B", b"B", b"--X", b"", b"--B--"]))
    newline = draw(st.sampled_from([b"\r\n", b"\n"]))
    length = {"true": b"%d" % len(body), "half": b"%d" % (len(body) // 2),
              "double": b"%d" % (2 * len(body)), "huge": b"%d" % (1 << 62),
              "garbage": b"12ab", "negative": b"-5", "absent": b""}[draw(lengths)]
    headers = b"Content-Type: image/jpeg" + newline
    if length:
        headers += b"Content-Length: " + length + newline
    if draw(st.integers(0, 4)) == 0:
        headers += _junk(draw(st.integers(0, 100)), draw(st.integers(0, 3000)))
    if draw(st.integers(0, 9)) == 0:
        headers += b"X-Endless: " + b"b" * draw(st.integers(0, 200_000))
    return delimiter + newline + headers + newline + body + newline


@st.composite
def responses(draw) -> Tuple[bytes, int]:
    status = draw(mostly(b"200 OK", [b"404 Not Found", b"401 Unauthorized", b"500 Oops"]))
    kind = draw(mostly(b"multipart/x-mixed-replace; boundary=B", [
        b'multipart/x-mixed-replace; boundary="--B"', b"multipart/x-mixed-replace",
        b"image/jpeg", b"text/html", b""]))
    head = b"HTTP/1.0 " + status + b"\r\nContent-Type: " + kind + b"\r\n"
    if draw(st.integers(0, 9)) == 0:  # a head of junk lines, up to past http.client's limits
        head += _junk(draw(st.integers(0, 120)), draw(st.integers(0, 70_000)))
    stream: List[bytes] = draw(st.lists(parts(), min_size=1, max_size=6))
    ending = draw(st.sampled_from([b"", b"--B--\r\n", b"--B\r\nContent-Len"]))
    chunk = draw(st.integers(1, MIB))
    if kind == b"image/jpeg":
        return head + b"\r\n" + draw(bodies), chunk
    return head + b"\r\n" + b"".join(stream) + ending, chunk


def read(server: OneShotServer) -> str:
    source = UrlSource(SourceSettings("fuzz", options={"url": server.url, "timeout": 2}))
    frames = 0
    try:
        source.open()
        for _ in range(5):
            source.read()
            frames += 1
    except (SourceUnavailable, SourceError) as err:
        return f"REFUSED {err}" if frames == 0 else f"READ {frames} then {err}"
    finally:
        source.close()
    return f"READ {frames}"


def main() -> int:
    examples = int(os.environ.get("CAMERA_FUZZ_EXAMPLES", "60"))
    run_seed = int(os.environ.get("CAMERA_FUZZ_SEED") or random.randrange(1 << 32))
    print(f"SEED {run_seed}", flush=True)
    server = OneShotServer()

    @seed(run_seed)
    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(responses())
    def fuzz(response: Tuple[bytes, int]) -> None:
        server.payload, server.chunk = response
        try:
            line = read(server)
        except Exception as err:  # reported, then the run fails
            line = f"CRASH {type(err).__name__}: {err}"
        print(line, flush=True)  # a reason of more than one line fails the test

    fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
