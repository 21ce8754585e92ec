"""UrlSource for real against the fake IP camera on loopback: native JPEG passthrough,
drop-out and recovery, stalls, credentials, snapshots, and the FFmpeg reader."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from camera_service.sources.url import UrlSource

from fake_cameras.ip_camera import FakeIPCamera


def url_source(url, **options):
    return create_source("url", SourceSettings(name="ipcam", options={"url": url, **options}))


@pytest.fixture
def camera():
    with FakeIPCamera(width=320, height=240, fps=30) as cam:
        yield cam


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_native_jpeg_bytes_received_equal_bytes_served(camera):
    source = url_source(camera.url)
    info = source.open()
    assert (info.width, info.height, info.native_jpeg) == (320, 240, True)
    sequences = []
    for _ in range(10):
        frame = source.read()
        sequence = camera.sequence_of(frame.jpeg)
        assert sequence is not None, "received bytes differ from every frame served"
        assert camera.jpeg_for(sequence) == frame.jpeg
        assert (frame.width, frame.height) == (320, 240)
        sequences.append(sequence)
    assert sequences == sorted(sequences) and len(set(sequences)) == 10
    source.close()


def test_camera_drop_out_then_recovery_without_leaks(camera):
    source = url_source(camera.url, timeout=2)
    source.open()
    source.read()
    source.close()
    threads, fds = threading.active_count(), open_fds()
    for _ in range(3):
        source.open()
        source.read()
        camera.stop()
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"stream from http://127\.0\.0\.1.*(ended|stopped)"):
            for _ in range(100):  # frames already buffered may still arrive
                source.read()
        assert time.monotonic() - started < 2.5
        source.close()
        with pytest.raises(SourceUnavailable, match="cannot reach camera"):
            source.open()
        camera.start()
        source.open()
        assert camera.sequence_of(source.read().jpeg) is not None
        source.close()
    time.sleep(0.2)  # server-side handler threads finish
    assert open_fds() <= fds
    assert threading.active_count() <= threads


def test_stalled_camera_read_times_out(camera):
    source = url_source(camera.url, timeout=0.5)
    source.open()
    source.read()
    camera.freeze()
    started = time.monotonic()
    with pytest.raises(SourceError):
        for _ in range(100):
            source.read()
    assert time.monotonic() - started < 1.5
    source.close()
    camera.unfreeze()


def test_credentials_are_used_and_never_shown(caplog):
    with FakeIPCamera(width=64, height=48, fps=20, username="admin",
                      password="s3cret-pw") as cam:
        good = url_source(cam.url)
        assert good.open().native_jpeg
        assert cam.sequence_of(good.read().jpeg) is not None
        good.close()
        assert "s3cret-pw" not in good.describe() and "admin" not in repr(good)
        bad = url_source(cam.url.replace("s3cret-pw", "wrong-pw"))
        with pytest.raises(SourceUnavailable) as err:
            bad.open()
        assert "401" in str(err.value) and "fix the user:password" in str(err.value)
        assert "wrong-pw" not in str(err.value) and "***@" in str(err.value)
        cam.stop()
        with pytest.raises(SourceUnavailable) as err:
            good.open()
        assert "s3cret-pw" not in str(err.value)
    assert "s3cret-pw" not in caplog.text and "wrong-pw" not in caplog.text


def test_snapshot_url_is_polled_at_the_configured_rate(camera):
    source = create_source("url", SourceSettings(name="snap", fps=10,
                                                 options={"url": camera.snapshot_url}))
    info = source.open()
    assert info.native_jpeg and info.fps == 10
    started = time.monotonic()
    frames = [source.read() for _ in range(6)]
    elapsed = time.monotonic() - started
    assert all(camera.sequence_of(f.jpeg) is not None for f in frames)
    assert 0.4 <= elapsed < 1.5  # 5 waits of 0.1 s after the frame read at open
    source.close()


def test_wrong_path_is_unavailable_with_the_fix(camera):
    with pytest.raises(SourceUnavailable, match=r"HTTP 404.*stream path"):
        url_source(camera.url.replace("/stream.mjpg", "/nothing")).open()


def test_ffmpeg_reader_decodes_to_pixels_and_reports_drop_out(camera):
    source = url_source(camera.url, reader="ffmpeg", timeout=2)
    info = source.open()
    assert (info.width, info.height, info.native_jpeg) == (320, 240, False)
    frame = source.read()
    assert frame.jpeg is None and frame.pixels.shape == (240, 320, 3)
    camera.stop()
    with pytest.raises(SourceError):
        for _ in range(100):
            source.read()
    source.close()


def test_unreachable_rtsp_camera_is_unavailable_quickly():
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = url_source(f"rtsp://user:pw123@127.0.0.1:{port}/stream1", timeout=2)
    assert source.reader == "ffmpeg"
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as err:
        source.open()
    assert time.monotonic() - started < 5
    assert "pw123" not in str(err.value) and f"rtsp://***@127.0.0.1:{port}" in str(err.value)
    source.close()


@pytest.mark.parametrize("options, key", [
    ({}, "url"),
    ({"url": "192.168.50.20/video"}, "url"),
    ({"url": "http://cam:99999/x"}, "url"),
    ({"url": "rtsp://cam/x", "reader": "mjpeg"}, "reader"),
    ({"url": "http://cam/x", "reader": "gstreamer"}, "reader"),
    ({"url": "http://cam/x", "timeout": 0}, "timeout"),
    ({"url": "http://cam/x", "rtsp_transport": "http"}, "rtsp_transport"),
    ({"url": "http://cam/x", "verify_tls": "no"}, "verify_tls"),
    ({"url": "http://cam/x", "user": "admin"}, "user"),
])
def test_bad_options_are_config_errors(options, key):
    with pytest.raises(ConfigError) as err:
        create_source("url", SourceSettings(name="x", options=options))
    assert err.value.key == key


def test_bad_url_error_does_not_leak_the_password():
    with pytest.raises(ConfigError) as err:
        create_source("url", SourceSettings(
            name="x", options={"url": "http://u:topsecret@cam:99999/"}))
    assert "topsecret" not in str(err.value)


def test_registered_kind():
    assert isinstance(url_source("http://127.0.0.1:1/"), UrlSource)


def test_ffmpeg_reader_checks_the_declared_size_before_decoding_a_frame():
    """An RTSP/FFmpeg stream declaring a size over the frame budget was decoded first (an
    8000x8000 stream: 192 MB a frame) and checked after."""
    with FakeIPCamera(width=1280, height=720, fps=10) as camera:
        source = url_source(camera.url, reader="ffmpeg", timeout=2)
        declared = []

        def over_budget(width: int, height: int) -> None:
            declared.append((width, height))
            raise SourceUnavailable(f"frames of {width}x{height} are over the frame budget")

        source.limit_declared_size(over_budget)
        with pytest.raises(SourceUnavailable, match="1280x720"):
            source.open()
        assert declared == [(1280, 720)]
        with pytest.raises(SourceError, match="not open"):  # closed, nothing kept
            source.read()
