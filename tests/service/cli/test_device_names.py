"""--device-name values -> source kinds and the SDK example's source names."""

from __future__ import annotations

import pytest
from camera_service.cli.device_names import (
    device_source,
    device_sources,
    example_name,
    sanitize_name,
    source_kind,
)


@pytest.mark.parametrize(("device", "kind"), [
    ("0", "v4l2"), ("/dev/video2", "v4l2"), ("/dev/v4l/by-id/usb-X-video-index0", "v4l2"),
    ("usb-046d_C920_A1B2-video-index0", "v4l2"), ("/dev/spot-cam-front", "v4l2"),
    ("clip.avi", "file"), ("/data/videos/run.MP4", "file"),
    ("http://cam/stream.mjpg", "url"), ("https://cam/snap.jpg", "url"),
    ("rtsp://u:p@cam/live", "url"), ("rtsps://cam/live", "url"), ("udp://239.0.0.1:5000", "url"),
    ("synthetic", "synthetic"), ("synthetic:rear", "synthetic"),
])
def test_kind(device, kind):
    assert source_kind(device) == kind


def test_an_existing_file_without_video_extension_is_a_file(tmp_path):
    path = tmp_path / "recording"
    path.write_bytes(b"")
    assert source_kind(str(path)) == "file"


@pytest.mark.parametrize(("device", "name"), [
    ("0", "video0"), ("/dev/video0", "video0"), ("12", "video12"), ("clip.avi", "clip.avi"),
    ("/dev/v4l/by-id/usb-X-video-index0", "usb-X-video-index0"),
    ("http://127.0.0.1:8081/stream.mjpg", "stream.mjpg"),
    ("rtsp://admin:p#ss/w?rd@cam/stream", "stream"),      # named without the password
    ("rtsp://admin:pa/ss@192.168.50.20:554/", "192.168.50.20"),
    ("http://cam/cgi-bin/video.cgi?ch=1", "video.cgi?ch=1"),
])
def test_example_name(device, name):
    assert example_name(device) == name


def test_sanitize():
    assert sanitize_name("video.cgi?ch=1") == "video.cgi-ch-1"
    assert sanitize_name("pci-0000:00:14.0-usb-0:1") == "pci-0000-00-14.0-usb-0-1"
    assert sanitize_name("???") == "camera"
    assert len(sanitize_name("a" * 200)) == 63


def test_entries_carry_the_right_options():
    assert device_source("3").settings.options == {"device": 3}
    assert device_source("clip.avi").settings.options == {"path": "clip.avi"}
    url = "rtsp://u:#/?@:x@cam/live"
    entry = device_source(url)
    assert (entry.type, entry.settings.name, entry.settings.options) == ("url", "live",
                                                                         {"url": url})


def test_repeated_names_get_numbers():
    names = [e.settings.name for e in device_sources(
        ["http://a/stream.mjpg", "http://b/stream.mjpg", "http://c/stream.mjpg"])]
    assert names == ["stream.mjpg", "stream.mjpg-2", "stream.mjpg-3"]
