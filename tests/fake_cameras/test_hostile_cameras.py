"""The hostile fake cameras send what they claim: every path of the hostile camera server
does what its summary says (read with bounded reads: a test reads a few MB of an endless
stream, never to its end), and the FakeIPCamera-based ones - the JPEG bomb's header lies,
the truncated camera's frames stop early, the huge camera's frames are really that big."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from camera_service.core import jpeg

import fake_cameras.hostile_cameras as hostile_module
from devtools.polling import wait_for
from fake_cameras.hostile_cameras import (
    HostileCameraServer,
    huge_camera,
    jpeg_bomb_camera,
    truncated_camera,
)
from fake_cameras.hostile_streams import BOUNDARY, DECLARED_HUGE, PATHS
from fake_cameras.image_bombs import available_formats, declared_frame, png_bomb

DELIMITER = f"--{BOUNDARY}".encode()
ENDLESS_SAMPLE = 2 << 20  # bytes read from an endless stream


@pytest.fixture(scope="module")
def hostile():
    with HostileCameraServer(fps=20) as server:
        yield server


class Raw:
    """A GET on a plain socket, read with bounds (the stream may never end)."""

    def __init__(self, server: HostileCameraServer, target: str, timeout: float = 10.0):
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout)
        self.sock.sendall(f"GET {target} HTTP/1.0\r\nHost: camera\r\n\r\n".encode())
        self.buffer = b""

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _more(self, limit: int) -> None:
        data = self.sock.recv(min(65536, max(1, limit)))
        if not data:
            raise EOFError("the camera closed the connection")
        self.buffer += data

    def exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._more(count - len(self.buffer))
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def until(self, marker: bytes, limit: int) -> bytes:
        """Bytes up to and with ``marker``; AssertionError past ``limit`` bytes."""
        while marker not in self.buffer:
            assert len(self.buffer) <= limit, f"no {marker!r} in {limit} bytes"
            self._more(limit + len(marker) - len(self.buffer))
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def head(self) -> bytes:
        return self.until(b"\r\n\r\n", 64 * 1024)

    def part(self) -> tuple:
        """(part headers as dict, body) of a part with a truthful Content-Length."""
        headers = self.part_headers()
        body = self.exactly(int(headers["content-length"]))
        assert self.exactly(2) == b"\r\n"
        return headers, body

    def part_headers(self) -> dict:
        lines = self.until(b"\r\n\r\n", 64 * 1024).decode("latin-1").split("\r\n")
        assert lines[0] == DELIMITER.decode(), lines[0]
        return {k.strip().lower(): v.strip() for k, _, v in
                (line.partition(":") for line in lines[1:] if line)}


def _stream_head(raw: Raw) -> None:
    head = raw.head().decode("latin-1")
    assert head.startswith("HTTP/1.0 200 OK\r\n")
    assert f"multipart/x-mixed-replace; boundary={BOUNDARY}" in head


def test_every_path_is_documented_and_listed(hostile):
    doc = hostile_module.__doc__
    with urllib.request.urlopen(hostile.url("/"), timeout=10) as response:
        index = response.read(1 << 20).decode()
    for path in PATHS:
        assert re.search(rf"^{re.escape(path)} ", index, re.M), path
        fmt = path[1:-len("-bomb")] if path.endswith("-bomb") else None
        assert f"``{path}``" in doc or (fmt and fmt in doc), path
    assert "/_stats" in index


def test_valid_serves_genuine_frames(hostile):
    with Raw(hostile, "/valid") as raw:
        _stream_head(raw)
        for _ in range(3):
            headers, body = raw.part()
            assert headers["content-type"] == "image/jpeg"
            image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
            assert image.shape == (hostile.size[1], hostile.size[0], 3)


def test_endless_part_header_sends_junk_lines_forever(hostile):
    with Raw(hostile, "/endless-part-header") as raw:
        _stream_head(raw)
        assert raw.until(b"Content-Type: image/jpeg\r\n", 1024).startswith(DELIMITER)
        sample = raw.exactly(ENDLESS_SAMPLE)
    lines = sample.split(b"\r\n")[:-1]  # the last may be cut
    assert len(lines) > 1000
    for number, line in enumerate(lines, 1):
        assert line == b"X-Junk-%d: %s" % (number, b"a" * 1000)


def test_endless_header_line_never_ends(hostile):
    with Raw(hostile, "/endless-header-line") as raw:
        _stream_head(raw)
        raw.until(b"Content-Type: image/jpeg\r\nX-Junk: ", 1024)
        assert raw.exactly(ENDLESS_SAMPLE) == b"a" * ENDLESS_SAMPLE


def test_endless_http_header_never_ends(hostile):
    with Raw(hostile, "/endless-http-header?line=10") as raw:
        sample = raw.exactly(ENDLESS_SAMPLE)
    assert sample.startswith(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace")
    assert b"\r\n\r\n" not in sample
    assert sample.count(b"X-Junk-") > 50_000


def test_length_huge_declares_2_to_the_40_and_sends_a_frame(hostile):
    with Raw(hostile, "/length-huge") as raw:
        _stream_head(raw)
        headers = raw.part_headers()
        assert int(headers["content-length"]) == DECLARED_HUGE
        body = raw.until(b"\r\n" + DELIMITER, 1 << 20)
    frame = body[:-len(DELIMITER) - 2]
    assert cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR) is not None


def test_length_short_declares_half(hostile):
    with Raw(hostile, "/length-short") as raw:
        _stream_head(raw)
        declared = int(raw.part_headers()["content-length"])
        frame = raw.until(b"\r\n" + DELIMITER, 1 << 20)[:-len(DELIMITER) - 2]
    assert declared == len(frame) // 2
    assert frame.startswith(b"\xff\xd8") and frame.endswith(b"\xff\xd9")


def test_no_boundary_part_never_ends(hostile):
    with Raw(hostile, "/no-boundary") as raw:
        _stream_head(raw)
        assert "content-length" not in raw.part_headers()
        sample = raw.exactly(ENDLESS_SAMPLE)
    assert DELIMITER not in sample
    assert sample.startswith(b"\xff\xd8") and sample.count(b"\xff\xd8\xff\xe0") > 10


def test_png_bomb_is_a_png_labelled_jpeg(hostile):
    with Raw(hostile, "/png-bomb") as raw:
        _stream_head(raw)
        headers, body = raw.part()
    assert headers["content-type"] == "image/jpeg"
    assert body == png_bomb() and len(body) < 1_000_000


@pytest.mark.parametrize("fmt", [f for f in available_formats() if f != "png"])
def test_format_bombs_serve_their_declared_frames(hostile, fmt):
    with Raw(hostile, f"/{fmt}-bomb") as raw:
        _stream_head(raw)
        headers, body = raw.part()
    assert headers["content-type"] == "image/jpeg"
    assert body == declared_frame(fmt, 16000, 16000)


def test_bomb_size_is_a_query_parameter(hostile):
    with Raw(hostile, "/bmp-bomb?size=64x48") as raw:
        _stream_head(raw)
        _, body = raw.part()
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (48, 64, 3)


def test_a_bad_query_is_refused_before_any_stream(hostile):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(hostile.url("/valid?fps=fast"), timeout=10)
    assert refused.value.code == 400
    assert refused.value.read(4096).decode().startswith("?fps= must be a number above 0")


def test_garbage_frames_do_not_decode(hostile):
    with Raw(hostile, "/garbage") as raw:
        _stream_head(raw)
        for _ in range(3):
            headers, body = raw.part()
            assert headers["content-type"] == "image/jpeg" and 1024 <= len(body) <= 65536
            assert cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR) is None


def test_drip_sends_a_genuine_part_one_byte_at_a_time(hostile):
    with Raw(hostile, "/drip?rate=100") as raw:
        _stream_head(raw)
        started = time.monotonic()
        start = raw.exactly(len(DELIMITER) + 2)
        took = time.monotonic() - started
    assert start == DELIMITER + b"\r\n"
    assert took >= (len(start) - 1) / 100  # never faster than the rate


def _outcome(hostile) -> str:
    """What one connection to the flapping camera got: "frames" or "cut"."""
    try:
        with Raw(hostile, "/flap?period=0.5") as raw:
            _stream_head(raw)
            raw.part()
            return "frames"
    except (EOFError, ConnectionError, AssertionError):
        return "cut"


def test_flap_alternates_between_frames_and_cut_connections(hostile):
    with Raw(hostile, "/flap?period=0.5") as first:
        try:  # a stream that started while up is cut when the camera goes down
            _stream_head(first)
            while True:
                first.part()
        except (EOFError, ConnectionError):
            pass
    wait_for(lambda: _outcome(hostile) == "cut", what="a refused connection")
    wait_for(lambda: _outcome(hostile) == "frames", what="frames again")


def test_slow_loris_stops_mid_frame_and_holds(hostile):
    with Raw(hostile, "/slow-loris") as raw:
        _stream_head(raw)
        size = int(raw.part_headers()["content-length"])
        held = raw.exactly(size // 2)
        assert held.startswith(b"\xff\xd8")
        raw.sock.settimeout(1.0)
        with pytest.raises(socket.timeout):
            raw.exactly(size - size // 2)  # the rest never comes
        assert len(raw.buffer) < size - size // 2


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refusals_are_counted_per_path(hostile, status):
    hostile.reset_stats()
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(hostile.url(f"/{status}?try=1"), timeout=10)
        assert refused.value.code == status
    if status == 401:
        assert refused.value.headers["WWW-Authenticate"].startswith("Basic")
    with urllib.request.urlopen(hostile.url("/_stats"), timeout=10) as response:
        stats = json.loads(response.read(1 << 20))
    assert stats == {"attempts": {f"/{status}": 3}}
    assert hostile.attempts(f"/{status}") == 3


def test_stop_cuts_every_held_connection():
    server = HostileCameraServer().start()
    held = [Raw(server, path) for path in ("/slow-loris", "/endless-part-header", "/drip")]
    wait_for(lambda: server.connected() == 3, what="three connections")
    server.stop()
    for raw in held:
        with raw:
            raw.sock.settimeout(10)
            with pytest.raises((EOFError, ConnectionError)):
                while True:  # what was sent before the stop, then the end
                    raw.exactly(65536)


def test_cli_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_cameras.hostile_cameras", "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"(http://\S+/)", line).group(1)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b"/png-bomb" in response.read(1 << 20)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


# -- cameras built on FakeIPCamera ----------------------------------------------------------


def _snapshot(camera) -> bytes:
    deadline = time.monotonic() + 10
    while camera.sequence < 1:
        assert time.monotonic() < deadline, "the camera produced no frame"
        time.sleep(0.02)
    with urllib.request.urlopen(camera.snapshot_url, timeout=10) as response:
        return response.read()


def test_the_jpeg_bomb_is_tiny_and_declares_30000x30000():
    with jpeg_bomb_camera() as camera:
        data = _snapshot(camera)
    assert len(data) < 1000
    assert jpeg.jpeg_size(data) == (30000, 30000)
    assert jpeg.parse(data).width == 30000


def test_truncated_frames_have_no_end_and_do_not_parse():
    with truncated_camera(width=320, height=240) as camera:
        data = _snapshot(camera)
    assert data.startswith(b"\xff\xd8") and not data.endswith(b"\xff\xd9")
    with pytest.raises(jpeg.JpegError):
        jpeg.parse(data)


def test_the_huge_camera_sends_real_frames_of_its_size():
    with huge_camera(size=3000, fps=2) as camera:
        data = _snapshot(camera)
    assert jpeg.jpeg_size(data) == (3000, 3000)
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (3000, 3000, 3)
