"""The hostile fake cameras send what they claim: the JPEG bomb's header lies, the truncated
camera's frames stop early, the huge camera's frames are really that big."""

from __future__ import annotations

import time
import urllib.request

import cv2
import numpy as np
import pytest
from camera_service.core import jpeg

from fake_cameras.hostile_cameras import huge_camera, jpeg_bomb_camera, truncated_camera


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
