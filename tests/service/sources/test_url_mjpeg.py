"""The HTTP JPEG reader against hand-made camera responses (the odd shapes real cameras
send), plus the URL helpers."""

from __future__ import annotations

import socket
import threading

import cv2
import numpy as np
import pytest
from camera_service.sources.url_mjpeg import HttpJpegStream, StreamError


def make_jpeg(width, height, value=128):
    image = np.full((height, width, 3), value, np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


class RawServer:
    """Answers one HTTP request on loopback with fixed bytes, then closes."""

    def __init__(self, payload: bytes, hold_open: bool = False) -> None:
        self.payload = payload
        self.hold_open = hold_open
        self.release = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/video"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(self.payload)
            if self.hold_open:
                self.release.wait(10)

    def close(self):
        self.release.set()
        self.thread.join(5)
        self.listener.close()


def multipart(parts, boundary='"--myboundary"', with_length=False):
    head = (b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary="
            + boundary.encode() + b"\r\n\r\n")
    body = b""
    for part in parts:
        body += b"--myboundary\r\nContent-Type: image/jpeg\r\n"
        if with_length:
            body += b"Content-Length: %d\r\n" % len(part)
        body += b"\r\n" + part + b"\r\n"
    return head + body


@pytest.mark.parametrize("with_length", [True, False])
def test_parts_with_and_without_length_come_out_byte_exact(with_length):
    frames = [make_jpeg(32, 16, v) for v in (0, 90, 200)]
    # Bytes that look like line ends and delimiters must survive the line-based scan.
    frames[1] += b"\n\r\n--myboundaryX\r\n"
    server = RawServer(multipart(frames, with_length=with_length) + b"--myboundary--\r\n")
    try:
        stream = HttpJpegStream(server.url, timeout=2)
        assert not stream.is_snapshot
        assert [stream.next_jpeg() for _ in frames] == frames
        with pytest.raises(StreamError, match="ended"):
            stream.next_jpeg()
        stream.close()
        stream.close()
    finally:
        server.close()


def test_stream_that_stalls_times_out():
    server = RawServer(multipart([make_jpeg(16, 16)], with_length=True), hold_open=True)
    try:
        stream = HttpJpegStream(server.url, timeout=0.3)
        stream.next_jpeg()
        with pytest.raises(StreamError, match="stopped"):
            stream.next_jpeg()
        stream.close()
    finally:
        server.close()


def test_html_instead_of_video_is_refused_on_connect():
    server = RawServer(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html></html>")
    try:
        with pytest.raises(StreamError) as err:
            HttpJpegStream(server.url, timeout=2)
        assert err.value.while_connecting and "text/html" in str(err.value)
    finally:
        server.close()


def test_part_that_is_not_a_jpeg_is_passed_on_for_the_frame_hygiene_to_judge():
    server = RawServer(multipart([b"hello", make_jpeg(16, 8)], with_length=True))
    try:
        stream = HttpJpegStream(server.url, timeout=2)
        assert stream.next_jpeg() == b"hello"
        assert stream.next_jpeg().startswith(b"\xff\xd8")
        stream.close()
    finally:
        server.close()
