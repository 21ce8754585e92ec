"""The fake IP camera: shared encode-once frames, drop-out on stop, restart on the same
port, authentication and its command line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from camera_service.sources.url_mjpeg import HttpJpegStream, StreamError

from fake_cameras.ip_camera import FakeIPCamera


def test_every_client_gets_the_same_bytes_for_a_frame():
    with FakeIPCamera(width=160, height=120, fps=30) as camera:
        first = HttpJpegStream(camera.url, timeout=2)
        second = HttpJpegStream(camera.url, timeout=2)
        a = {camera.sequence_of(first.next_jpeg()) for _ in range(8)}
        b = {camera.sequence_of(second.next_jpeg()) for _ in range(8)}
        assert None not in a and None not in b
        assert a & b, "two clients reading at once should see common frames"
        first.close()
        second.close()


def test_frames_are_the_synthetic_pattern_at_the_set_size_and_rate():
    with FakeIPCamera(width=200, height=100, fps=20) as camera:
        stream = HttpJpegStream(camera.url, timeout=2)
        jpeg = stream.next_jpeg()
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (100, 200, 3)
        start = camera.sequence
        time.sleep(1.0)
        assert 10 <= camera.sequence - start <= 30  # about 20 frames in a second
        stream.close()


def test_stop_cuts_clients_and_restart_comes_back_on_the_same_port():
    with FakeIPCamera(width=64, height=48, fps=30) as camera:
        port = camera.port
        stream = HttpJpegStream(camera.url, timeout=2)
        stream.next_jpeg()
        camera.stop()
        with pytest.raises(StreamError):
            for _ in range(100):
                stream.next_jpeg()
        stream.close()
        with pytest.raises(StreamError, match="cannot reach"):
            HttpJpegStream(camera.url, timeout=1)
        camera.restart()
        assert camera.port == port
        again = HttpJpegStream(camera.url, timeout=2)
        assert camera.sequence_of(again.next_jpeg()) is not None
        again.close()
        assert camera.connections == 2


def test_basic_authentication_is_required_when_configured():
    with FakeIPCamera(width=64, height=48, fps=10, username="u", password="p") as camera:
        bare = camera.url.replace("u:p@", "")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bare, timeout=2)
        assert err.value.code == 401
        stream = HttpJpegStream(camera.url, timeout=2)
        assert stream.next_jpeg().startswith(b"\xff\xd8")
        stream.close()


def test_command_line_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_cameras.ip_camera", "--port", "0", "--width", "96",
         "--height", "64", "--fps", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"ready: (http://127\.0\.0\.1:\d+/stream\.mjpg)", line)
        assert match, line
        snapshot = match.group(1).replace("/stream.mjpg", "/snapshot.jpg")
        with urllib.request.urlopen(snapshot, timeout=5) as response:
            image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (64, 96, 3)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


def test_command_line_refuses_a_non_loopback_address():
    result = subprocess.run(
        [sys.executable, "-m", "fake_cameras.ip_camera", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "loopback" in result.stderr
