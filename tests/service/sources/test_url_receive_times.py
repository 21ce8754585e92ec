"""HTTP MJPEG frames carry the kernel's receive time of their first bytes (issue 24: the
acquisition time is the arrival of the frame's first byte, not when a busy reader got to
it), and the wall clock where the kernel cannot tell."""

from __future__ import annotations

import socket
import ssl
import time
from typing import Tuple

import cv2
import numpy as np
import pytest
from camera_service.sources.base import Frame, SourceSettings
from camera_service.sources.multipart_reader import MultipartReader
from camera_service.sources.socket_times import SO_TIMESTAMPNS, TimedReceive
from camera_service.sources.url import UrlSource

from devtools.polling import wait_for
from fake_cameras.burst_camera import BurstCamera, Bursts, part

GAP = 0.05  # s between a frame's two bursts


def _tcp_pair():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
    return client, server


@pytest.fixture(scope="module", autouse=True)
def kernel_stamping():
    """The kernel turns receive timestamping on shortly after the first socket of the
    machine asks for it (deferred work): a socket kept asking, probed until its reads carry
    a time, so that the tests' own sockets' first bytes are stamped."""
    client, server = _tcp_pair()
    with client, server:
        receive = TimedReceive.for_socket(client)
        assert receive is not None, "Linux TCP sockets take SO_TIMESTAMPNS"
        view = memoryview(bytearray(1))

        def stamped() -> bool:
            server.sendall(b"x")
            receive(view)
            return receive.time is not None
        wait_for(stamped, timeout=10, what="kernel receive timestamps")
        yield


@pytest.fixture(scope="module")
def jpegs() -> Tuple[bytes, bytes]:
    """Two different noisy 640x480 JPEGs of a few hundred kB (several loopback segments)."""
    rng = np.random.default_rng(24)
    encoded = []
    for _ in range(2):
        image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        encoded.append(data.tobytes())
    assert len(encoded[0]) > 200_000
    return encoded[0], encoded[1]


def _opened(camera: BurstCamera) -> UrlSource:
    source = UrlSource(SourceSettings("cam", options={"url": camera.url, "timeout": 5}))
    source.open()
    source.read()  # the frame open read (its first bytes came with the HTTP head)
    return source


def _read_late(camera: BurstCamera, source: UrlSource, jpeg: bytes) -> Tuple[Frame, Bursts,
                                                                                float, float]:
    """A frame sent in two bursts ``GAP`` apart, read only once both are out: the frame,
    the bursts' times, and the wall clock before and after the read."""
    data = part(jpeg)
    bursts = camera.send_in_bursts(data, len(data) // 2, GAP)
    assert bursts.done.wait(timeout=10), "the camera did not send the frame"
    read_from = time.time()
    frame = source.read()
    return frame, bursts, read_from, time.time()


def test_a_late_reader_stamps_a_frame_with_the_kernel_arrival_of_its_first_bytes(jpegs):
    """The reader is blocked until the second burst is out; the frame's time is the first
    burst's arrival (taken by the kernel while the camera's send call ran), not the read
    (before: the wall clock after the read, GAP and more later)."""
    with BurstCamera(part(jpegs[0])) as camera:
        source = _opened(camera)
        try:
            camera.send(part(jpegs[1]))
            assert source.read().jpeg == jpegs[1]  # a frame read as it comes
            frame, bursts, read_from, _ = _read_late(camera, source, jpegs[0])
        finally:
            source.close()
    assert frame.jpeg == jpegs[0]
    assert bursts.started[0] <= frame.capture_time <= bursts.returned[0]
    assert frame.capture_time < bursts.started[1] < read_from


def test_chunked_responses_fall_back_to_the_time_of_the_read(jpegs):
    """Chunked transfer encoding is read through http.client: no kernel time; the frame is
    stamped with the wall clock as the read that brought its first byte returned."""
    with BurstCamera(part(jpegs[0]), chunked=True) as camera:
        source = _opened(camera)
        try:
            frame, _, read_from, read_until = _read_late(camera, source, jpegs[1])
        finally:
            source.close()
    assert frame.jpeg == jpegs[1]
    assert read_from <= frame.capture_time <= read_until


def test_reads_without_a_kernel_time_fall_back_to_the_wall_clock():
    """``read_time`` answering None (bytes received before the option was on, a socket
    that does not stamp) gives the wall clock of that read; a time it tells is used."""
    chunks = [b"--b\r\nContent-Length: 3\r\n\r\nabc\r\n", b"--b\r\nContent-Length: 2\r\n\r\n",
              b"xy\r\n--b--\r\n"]
    kernel_times = [None, 7.5, 8.5]
    told = []

    def receive(view):
        data = chunks.pop(0)
        view[:len(data)] = data
        told.append(kernel_times.pop(0))
        return len(data)
    reader = MultipartReader(receive, b"b", "cam", wall_clock=lambda: 100.0,
                             read_time=lambda: told[-1])
    assert reader.next_part() == b"abc" and reader.arrival == 100.0
    assert reader.next_part() == b"xy" and reader.arrival == 8.5  # its first byte's read


def test_a_socket_read_tells_when_the_kernel_received_its_bytes():
    client, server = _tcp_pair()
    with client, server:
        receive = TimedReceive.for_socket(client)
        assert receive is not None
        sent_from = time.time()
        server.sendall(b"x" * 1000)
        sent_until = time.time()
        view = memoryview(bytearray(100))
        assert receive(view) == 100
        assert receive.time is not None and sent_from <= receive.time <= sent_until


@pytest.mark.parametrize("shift", [3600.0, -3600.0])
def test_a_kernel_time_off_the_wall_clock_is_not_believed(shift):
    # a kernel stamping another clock (or the wall clock stepped): the reader's own clock
    client, server = _tcp_pair()
    with client, server:
        client.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        receive = TimedReceive(client, wall_clock=lambda: time.time() + shift)
        server.sendall(b"abc")
        assert receive(memoryview(bytearray(8))) == 3
        assert receive.time is None


def test_sockets_that_cannot_tell_are_left_to_their_own_reads():
    plain = socket.socket()
    tls = ssl.create_default_context().wrap_socket(socket.socket(), server_hostname="cam",
                                                   do_handshake_on_connect=False)
    with plain, tls:
        assert TimedReceive.for_socket(tls) is None  # SSLSocket has no recvmsg
        assert TimedReceive.for_socket(None) is None
        assert TimedReceive.for_socket(plain) is not None
    left, right = socket.socketpair()
    with left, right:  # a Unix stream socket accepts the option but stamps nothing
        receive = TimedReceive.for_socket(left)
        assert receive is not None
        right.sendall(b"abc")
        assert receive(memoryview(bytearray(8))) == 3 and receive.time is None
