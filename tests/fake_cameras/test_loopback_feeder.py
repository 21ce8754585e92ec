"""The v4l2loopback feeder without a loopback device: the ioctl layouts match the kernel's,
frame sets survive the file, and the write loop sends one frame per write at the set rate,
pausing and resuming like a stalled camera. (The VM tests feed a real loopback node.)"""

from __future__ import annotations

import json
import socket
import threading
import time

import cv2
import numpy as np
import pytest

from devtools.polling import wait_for
from fake_cameras import loopback_feeder, uvc_frames
from fake_cameras.loopback_feeder import FrameSet, LoopbackFeeder
from fake_cameras.time_stamp import now_us, read_stamp

WAIT = 30.0  # seconds; generous for a loaded machine: only a broken feeder takes that long


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


def _written(feeder):
    return sum(feeder.written.values())


def _saved_pause(stats_path):
    """The statistics file's content once it records a pause, else None."""
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    return stats if stats.get("at_pauses") else None


def _run_for_frames(feeder, runner, received, count):
    """Start ``runner``, wait until ``count`` frames have arrived, stop it and wait for the
    reader to have every frame written. Returns the seconds the feeder ran (an upper bound:
    measured from before the start to after the stop)."""
    started = time.monotonic()
    runner.start()
    wait_for(lambda: len(received) >= count, what=f"{count} frames", timeout=WAIT)
    feeder.stop()
    runner.join(WAIT)
    ran = time.monotonic() - started
    wait_for(lambda: len(received) == _written(feeder), what="every frame read", timeout=WAIT)
    return ran


def test_one_write_per_frame_at_the_set_rate_cycling_the_set(wired_feeder):
    feeder, runner, received, stats_path = wired_feeder
    ran = _run_for_frames(feeder, runner, received, 25)  # half a second
    frames = [data for _, data in received]
    assert frames[:4] == [b"\xff\xd8one\xff\xd9", b"\xff\xd8two\xff\xd9", b"\xff\xd8bad",
                          b"\xff\xd8one\xff\xd9"]
    # never faster than 50 fps (plus the first frame and one after a late wake-up); how much
    # slower a loaded machine makes it is not this test's business (that is a benchmark's)
    assert len(frames) <= ran * 50 + 2
    stats = json.loads(stats_path.read_text())
    assert stats["written"] == len(frames)
    assert stats["by_quirk"]["truncated"] == frames.count(b"\xff\xd8bad")


def test_pause_stalls_the_stream_and_resume_continues_without_a_burst(wired_feeder):
    feeder, runner, received, stats_path = wired_feeder
    runner.start()
    wait_for(lambda: len(received) >= 3, what="the first frames", timeout=WAIT)
    feeder.pause()
    paused = wait_for(lambda: _saved_pause(stats_path), what="the pause saved", timeout=WAIT)
    count = paused["written"]
    wait_for(lambda: len(received) == count, what="the frames before the pause read",
             timeout=WAIT)
    assert paused["paused"] and paused["at_pauses"][-1]["written"] == count
    time.sleep(0.5)  # a stall: nothing may come (25 frames missed at 50 fps)
    assert len(received) == count and _written(feeder) == count
    resumed = time.monotonic()
    feeder.resume()
    wait_for(lambda: len(received) > count, what="a frame after the resume", timeout=WAIT)
    time.sleep(0.1)
    sent = _written(feeder) - count
    elapsed = time.monotonic() - resumed
    # at 50 fps from the resume on; a feeder catching up would send the 25+ missed at once
    assert 1 <= sent <= elapsed * 50 + 2


def test_reload_switches_to_the_frame_set_file_without_a_gap(wired_feeder, tmp_path):
    feeder, runner, received, _ = wired_feeder
    feeder.frames_path = str(tmp_path / "next.frames")
    loopback_feeder.write_frame_set(feeder.frames_path, FrameSet(
        64, 48, 50.0, (b"\xff\xd8new\xff\xd9",), ("none",)))
    runner.start()
    wait_for(lambda: len(received) >= 3, what="frames of the first set", timeout=WAIT)
    feeder.reload()
    wait_for(lambda: [data for _, data in received].count(b"\xff\xd8new\xff\xd9") >= 3,
             what="frames of the reloaded set", timeout=WAIT)
    frames = [data for _, data in received]
    switched = frames.index(b"\xff\xd8new\xff\xd9")
    assert switched >= 3 and set(frames[switched:]) == {b"\xff\xd8new\xff\xd9"}
    assert feeder.written["none"] >= len(frames) - switched


def test_a_stamping_feeder_writes_each_frame_with_the_time_of_its_write(tmp_path):
    stream = uvc_frames.camera_stream(320, 240, 50, ["none", "no_dht", "padding"])
    feeder = LoopbackFeeder("unused", stream, stamp_quality=80)
    feeder_end, reader_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    feeder._fd = feeder_end.fileno()
    reader_end.settimeout(WAIT)
    runner = threading.Thread(target=feeder.run, daemon=True)
    runner.start()
    try:
        received = [(reader_end.recv(1 << 20), now_us()) for _ in range(6)]
    finally:
        feeder.stop()
        runner.join(WAIT)
        feeder_end.close()
        reader_end.close()
    stamps = []
    for data, when in received:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (240, 320, 3)
        stamp = read_stamp(image)
        assert stamp is not None and stamp <= when  # never read before the time in it
        stamps.append(stamp)
    assert stamps == sorted(set(stamps))
    assert set(feeder.written) == {"stamped"}


def test_a_stamping_feeder_needs_a_frame_that_decodes(tmp_path, capsys):
    stream = FrameSet(320, 240, 30.0, (b"\xff\xd8bad",), ("truncated",))
    with pytest.raises(ValueError, match="no frame of the 320x240 set decodes"):
        LoopbackFeeder("unused", stream, stamp_quality=80)
    path = str(tmp_path / "bad.frames")
    loopback_feeder.write_frame_set(path, stream)
    assert loopback_feeder.main(["--device", str(tmp_path / "none"), "--frames", path,
                                 "--stamp-quality", "80"]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "stamping needs at least one" in error
