"""The v4l2loopback feeder without a loopback device: the ioctl layouts match the kernel's,
frame sets survive the file, and the write loop sends one frame per write at the set rate,
pausing and resuming like a stalled camera. (The VM tests feed a real loopback node.)"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from fake_cameras import loopback_feeder, uvc_frames
from fake_cameras.loopback_feeder import FrameSet, LoopbackFeeder


def test_ioctl_numbers_are_the_kernels():
    # linux/videodev2.h on 64-bit machines: struct v4l2_format is 208 bytes, v4l2_streamparm 204
    assert loopback_feeder.VIDIOC_S_FMT == 0xC0D05605
    assert loopback_feeder.VIDIOC_S_PARM == 0xC0CC5616
    assert loopback_feeder.PIX_FMT_MJPEG == 0x47504A4D


def test_frame_sets_round_trip_through_their_file(tmp_path):
    stream = uvc_frames.camera_stream(64, 48, 30, ["none", "no_dht", "truncated"])
    path = str(tmp_path / "a.frames")
    loopback_feeder.write_frame_set(path, stream)
    assert loopback_feeder.read_frame_set(path) == stream
    assert len(set(stream.frames)) == 3  # each frame is a distinct picture
    with open(path, "r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 10)
    with pytest.raises(ValueError, match="shorter"):
        loopback_feeder.read_frame_set(path)


@pytest.fixture
def wired_feeder(tmp_path):
    """A feeder writing into one end of a message socket (each write stays one message),
    a reader thread collecting (time, frame) from the other."""
    frames = (b"\xff\xd8one\xff\xd9", b"\xff\xd8two\xff\xd9", b"\xff\xd8bad")
    stream = FrameSet(64, 48, 50.0, frames, ("none", "padding", "truncated"))
    feeder_end, reader_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    feeder = LoopbackFeeder("unused", stream, str(tmp_path / "stats.json"))
    feeder._fd = feeder_end.fileno()
    received = []

    def read():
        while True:
            data = reader_end.recv(65536)
            if not data:
                return
            received.append((time.monotonic(), data))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    runner = threading.Thread(target=feeder.run, daemon=True)
    yield feeder, runner, received, tmp_path / "stats.json"
    feeder.stop()
    runner.join(2)
    feeder_end.close()
    reader_end.close()


def test_one_write_per_frame_at_the_set_rate_cycling_the_set(wired_feeder):
    feeder, runner, received, stats_path = wired_feeder
    runner.start()
    time.sleep(0.5)
    feeder.stop()
    runner.join(2)
    frames = [data for _, data in received]
    assert frames[:4] == [b"\xff\xd8one\xff\xd9", b"\xff\xd8two\xff\xd9", b"\xff\xd8bad",
                          b"\xff\xd8one\xff\xd9"]
    assert 4 <= len(frames) <= 30  # 50 fps for 0.5 s: never faster
    stats = json.loads(stats_path.read_text())
    assert stats["written"] == len(frames)
    assert stats["by_quirk"]["truncated"] == frames.count(b"\xff\xd8bad")


def test_pause_stalls_the_stream_and_resume_continues_without_a_burst(wired_feeder):
    feeder, runner, received, stats_path = wired_feeder
    runner.start()
    time.sleep(0.2)
    feeder.pause()
    time.sleep(0.3)
    paused = json.loads(stats_path.read_text())
    count = len(received)
    time.sleep(0.5)
    assert len(received) == count and paused["paused"] and paused["written"] == count
    assert paused["at_pauses"][-1]["written"] == count
    feeder.resume()
    time.sleep(0.2)
    # about 10 frames in 0.2 s at 50 fps; a feeder catching up would send the ~40 missed
    assert 1 <= len(received) - count <= 14


def test_reload_switches_to_the_frame_set_file_without_a_gap(wired_feeder, tmp_path):
    feeder, runner, received, _ = wired_feeder
    feeder.frames_path = str(tmp_path / "next.frames")
    loopback_feeder.write_frame_set(feeder.frames_path, FrameSet(
        64, 48, 50.0, (b"\xff\xd8new\xff\xd9",), ("none",)))
    runner.start()
    time.sleep(0.2)
    feeder.reload()
    time.sleep(0.2)
    frames = [data for _, data in received]
    switched = frames.index(b"\xff\xd8new\xff\xd9")
    assert switched > 0 and set(frames[switched:]) == {b"\xff\xd8new\xff\xd9"}
    assert feeder.written["none"] >= len(frames) - switched
