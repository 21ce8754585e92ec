"""The failing camera: fails after N frames or on command, counts opens, recovers."""

from __future__ import annotations

import threading

import pytest
from camera_service.config.model import from_mapping
from camera_service.core.errors import SourceError, SourceUnavailable
from camera_service.sources.base import SourceSettings
from camera_service.sources.synthetic import SyntheticSource

from fake_cameras.failing_camera import FailingCamera, failing_cameras


def _camera(**kwargs):
    return FailingCamera(SourceSettings("cam", width=64, height=48, fps=200), **kwargs)


def test_fail_after_frames_and_recovery():
    camera = _camera(fail_after_frames=2)
    camera.open()
    camera.read()
    camera.read()
    with pytest.raises(SourceError):
        camera.read()
    camera.close()
    with pytest.raises(SourceUnavailable):
        camera.open()
    camera.resume()
    camera.open()
    assert camera.read().sequence == 3  # the counter keeps going across reopen
    assert (camera.open_attempts, camera.open_count) == (3, 2)


def test_stop_delivering_until_resumed_and_waiting_for_retries():
    camera = _camera()
    camera.open()
    camera.stop_delivering()
    with pytest.raises(SourceError):
        camera.read()
    assert not camera.wait_for_open_attempts(2, timeout=0)
    refused = []

    def open_while_off():
        try:
            camera.open()
        except SourceUnavailable as err:
            refused.append(err)

    opener = threading.Thread(target=open_while_off)
    opener.start()
    assert camera.wait_for_open_attempts(2, timeout=30)
    opener.join()
    assert len(refused) == 1
    camera.resume()
    camera.open()
    assert camera.read().jpeg is not None
    assert {c.name for c in camera.controls()} >= {"brightness", "contrast"}


def test_failing_cameras_replaces_the_synthetic_entries_of_a_config():
    config = from_mapping({"sources": [
        {"name": "a", "type": "synthetic"},
        {"name": "b", "type": "file", "path": "/nonexistent.avi"}]})
    a, b = failing_cameras(config)
    assert isinstance(a, FailingCamera) and a.name == "a"
    assert not isinstance(b, FailingCamera) and b.kind == "file"
    assert not hasattr(SyntheticSource(SourceSettings("x")), "stop_delivering")
