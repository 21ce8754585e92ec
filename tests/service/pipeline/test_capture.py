"""Capture thread: frames flow, failures are reported once and recovered, stop is prompt."""

from __future__ import annotations

import logging
import threading
import time

import cv2
import numpy as np
from camera_service.backoff import Backoff
from camera_service.pipeline.capture import CaptureThread
from camera_service.pipeline.frame_store import FrameStore
from camera_service.sources import create_source
from camera_service.sources.base import CameraSource, Frame, SourceInfo, SourceSettings


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _synthetic(**options):
    return create_source("synthetic", SourceSettings("cam", width=64, height=48, fps=100,
                                                     options=options))


def test_failure_reported_once_then_recovery(caplog):
    source = _synthetic(fail_after_frames=3)
    store = FrameStore()
    events = []
    capture = CaptureThread(source, store, lambda s: events.append((s.name, s.failure)),
                            backoff=Backoff(initial=0.02, maximum=0.05))
    caplog.set_level(logging.DEBUG, logger="camera_service.pipeline.capture")
    capture.start()
    try:
        _wait(lambda: capture.state.status().failure is not None)
        time.sleep(0.3)  # several quiet retries happen meanwhile
        assert len(events) == 1 and events[0][0] == "cam" and "stopped delivering" in events[0][1]
        loud = [r for r in caplog.records if r.levelno >= logging.INFO]
        assert len([r for r in loud if r.levelno == logging.WARNING]) == 1
        assert len(loud) == 2  # "open", then "stopped delivering"; reopens are quiet
        source.resume()
        _wait(lambda: store.latest("cam") is not None)
        _wait(lambda: len(events) == 2)
        assert events[1] == ("cam", None)
        assert source.open_count >= 2
    finally:
        capture.stop()


def test_source_absent_at_start_is_retried_until_it_appears():
    source = _synthetic()
    source.stop_delivering()
    store = FrameStore()
    capture = CaptureThread(source, store, backoff=Backoff(initial=0.02, maximum=0.05))
    capture.start()
    try:
        _wait(lambda: capture.state.status().failure is not None)
        assert capture.state.status().info is None
        assert capture.state.status().generation == 0
        source.resume()
        _wait(lambda: store.latest("cam") is not None)
        status = capture.state.status()
        assert status.info.width == 64 and status.generation == 1
        assert "brightness" in {control.name for control in status.controls}
    finally:
        capture.stop()


def test_stop_returns_promptly_and_captures_at_source_rate():
    source = create_source("synthetic", SourceSettings("cam", width=64, height=48, fps=20))
    capture = CaptureThread(source, FrameStore())
    capture.start()
    time.sleep(0.5)
    start = time.monotonic()
    capture.stop(timeout=2.0)
    assert time.monotonic() - start < 2.0
    assert 1 <= capture.frames_captured <= 15  # never faster than the camera's 20 fps


_JPEG_16 = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))[1].tobytes()


class _HangingSource(CameraSource):
    """Delivers frames until ``hang`` is set, then blocks in read (a wedged driver)."""

    kind = "hanging"

    def __init__(self) -> None:
        super().__init__(SourceSettings("stuck"))
        self.hang = threading.Event()
        self.release = threading.Event()
        self.sequence = 0

    def open(self):
        return SourceInfo(16, 16, 50.0, native_jpeg=True)

    def read(self):
        time.sleep(0.02)
        if self.hang.is_set():
            self.release.wait()
            self.release.clear()
        self.sequence += 1
        return Frame(self.sequence, time.time(), 16, 16, jpeg=_JPEG_16, jpeg_quality=75)

    def close(self):
        pass


def test_watchdog_fails_a_camera_whose_read_hangs():
    source = _HangingSource()
    store = FrameStore()
    events = []
    capture = CaptureThread(source, store, lambda status: events.append(status.failure))
    capture.start()
    try:
        _wait(lambda: store.latest("stuck"))
        assert not capture.check_stall(0.3)
        source.hang.set()
        time.sleep(0.4)
        assert capture.check_stall(0.3)
        assert capture.state.status().failure and "no frame" in events[0]
        assert store.latest("stuck") is None
        assert not capture.check_stall(0.3)  # reported once
        source.hang.clear()
        source.release.set()
        _wait(lambda: store.latest("stuck"))
        _wait(lambda: events[-1] is None)
    finally:
        source.hang.clear()
        source.release.set()
        capture.stop()
