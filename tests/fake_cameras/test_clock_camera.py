"""The clock camera: every frame holds the time it is handed over to be sent, drawn a
margin ahead and waited for (with an injected clock), and over HTTP a client never gets a
frame before the time in it."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from camera_service.sources.url_mjpeg import HttpJpegStream

from fake_cameras.clock_camera import READY, SUMMARY, clock_camera
from fake_cameras.stamped_frames import StampedFrames
from fake_cameras.time_stamp import now_us, read_stamp

PICTURE = np.full((120, 320, 3), 90, np.uint8)


def _stamp(jpeg: bytes):
    return read_stamp(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE))


class FakeClock:
    """Nanoseconds that advance by ``encode_ns`` while a frame is encoded (each read inside
    an encode call advances) and by exactly what ``sleep`` is asked."""

    def __init__(self, encode_ns):
        self.now, self.encode_ns, self.slept = 1_000_000_000_000, list(encode_ns), []
        self._reads = 0

    def __call__(self):
        self._reads += 1
        if self._reads % 4 == 2:  # the read right after the encode
            self.now += self.encode_ns.pop(0)
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += round(seconds * 1e9)


def test_each_frame_holds_the_time_it_is_handed_over():
    clock = FakeClock([5_000_000, 4_000_000, 5_000_000])
    frames = StampedFrames([PICTURE], 90, clock_ns=clock, sleep=clock.sleep)
    for index in range(3):
        data = frames(index)
        assert _stamp(data) * 1000 == clock.now  # returned at the very time drawn in
    # first margin 10 ms (5 ms encode, 5 ms wait), then 1.5 x a typical encode + 1 ms
    assert clock.slept == [0.005, 0.0045, 0.002]
    assert frames.late_ms == [] and frames.frames == 3
    assert frames.frames_per_s() == pytest.approx(2 / 0.0155)  # sent 10, 18.5 and 25.5 ms in


def test_an_encode_overrunning_the_margin_is_counted_late():
    clock = FakeClock([2_000_000, 30_000_000])
    frames = StampedFrames([PICTURE], 90, clock_ns=clock, sleep=clock.sleep)
    frames(0)
    assert frames.margin_ns() == 4_000_000
    late_frame = frames(1)
    assert frames.late_ms == [26.0]
    assert _stamp(late_frame) * 1000 == clock.now - 26_000_000
    assert ("1 handed over more than 1 ms after their stamp (by 26.0 ms median, 26.0 ms worst)"
            in frames.summary())


def test_slow_encodes_never_hold_frames_longer_than_the_cap():
    # one stall among quick encodes leaves the margin alone; a slow machine meets the cap
    # (frames then go late rather than the camera dropping below its rate)
    clock = FakeClock([2_000_000] * 20 + [300_000_000] + [40_000_000] * 30)
    frames = StampedFrames([PICTURE], 90, clock_ns=clock, sleep=clock.sleep,
                           max_margin_ms=10.0)
    for index in range(21):
        frames(index)
    assert frames.margin_ns() == 4_000_000
    for index in range(30):
        frames(index)
    assert frames.margin_ns() == 10_000_000
    assert max(clock.slept) <= 0.010


def test_a_client_never_gets_a_frame_before_the_time_in_it():
    camera, frames = clock_camera(320, 240, 30, 90)
    with camera:
        stream = HttpJpegStream(camera.url, timeout=5)
        stamps = []
        for _ in range(6):
            jpeg = stream.next_jpeg()
            received = now_us()
            stamp = _stamp(jpeg)
            assert stamp is not None and stamp <= received
            stamps.append(stamp)
        stream.close()
    assert stamps == sorted(set(stamps))  # a new time in every frame
    assert frames.frames >= 6


def test_command_line_serves_and_reports_its_frames_when_stopped():
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_cameras.clock_camera", "--port", "0", "--size", "320x240",
         "--fps", "30", "--quality", "80"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(READY) and "320x240 @30 fps, quality 80" in line
        stream = HttpJpegStream(line[len(READY):].split()[0], timeout=5)
        assert _stamp(stream.next_jpeg()) is not None
        stream.close()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and out.startswith(SUMMARY) and "stamped frames" in out


def test_command_line_refuses_a_size_without_room_for_the_stamp():
    done = subprocess.run([sys.executable, "-m", "fake_cameras.clock_camera", "--size", "100x50"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "too small for the time stamp" in done.stderr.splitlines()[-1]
