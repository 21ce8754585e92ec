"""Capture thread: frames flow, failures are reported once and recovered, stop is prompt."""

from __future__ import annotations

import logging
import threading
import time

import cv2
import numpy as np
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore
from camera_service.core.backoff import Backoff
from camera_service.core.errors import CredentialsRefused, SourceError
from camera_service.sources import create_source
from camera_service.sources.base import CameraSource, Frame, SourceInfo, SourceSettings
from service_test_helpers import wait_for

from fake_cameras.failing_camera import FailingCamera

QUICK = dict(initial=0.02, maximum=0.05)


def _camera(fail_after_frames=None):
    return FailingCamera(SourceSettings("cam", width=64, height=48, fps=100),
                         fail_after_frames=fail_after_frames)


def test_failure_reported_once_then_recovery(caplog):
    source = _camera(fail_after_frames=3)
    store = FrameStore()
    events = []
    capture = CaptureThread(source, store, lambda s: events.append((s.name, s.failure)),
                            backoff=Backoff(**QUICK))
    caplog.set_level(logging.DEBUG, logger="camera_service.capture.capture_thread")
    capture.start()
    try:
        wait_for(lambda: capture.state.status().failure is not None)
        # several quiet retries (failed reopens) happen before anything is asserted
        assert source.wait_for_open_attempts(source.open_attempts + 3)
        assert len(events) == 1 and events[0][0] == "cam" and "stopped delivering" in events[0][1]
        loud = [r for r in caplog.records if r.levelno >= logging.INFO]
        assert len([r for r in loud if r.levelno == logging.WARNING]) == 1
        assert len(loud) == 2  # "open", then "stopped delivering"; reopens are quiet
        source.resume()
        wait_for(lambda: store.latest("cam") is not None)
        wait_for(lambda: len(events) == 2)
        assert events[1] == ("cam", None)
        assert source.open_count >= 2
    finally:
        capture.stop()


def test_source_absent_at_start_is_retried_until_it_appears():
    source = _camera()
    source.stop_delivering()
    store = FrameStore()
    capture = CaptureThread(source, store, backoff=Backoff(**QUICK))
    capture.start()
    try:
        wait_for(lambda: capture.state.status().failure is not None)
        assert capture.state.status().info is None
        assert capture.state.status().generation == 0
        source.resume()
        wait_for(lambda: store.latest("cam") is not None)
        status = capture.state.status()
        assert status.info.width == 64 and status.generation == 1
        assert "brightness" in {control.name for control in status.controls}
    finally:
        capture.stop()


class _CountingStore(FrameStore):
    """Signals when ``target`` frames have been stored."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = target
        self.reached = threading.Event()
        self.times = []

    def put(self, source, frame):
        self.times.append(time.monotonic())
        if len(self.times) >= self.target:
            self.reached.set()
        return super().put(source, frame)


def test_stop_returns_promptly_and_captures_at_source_rate():
    source = create_source("synthetic", SourceSettings("cam", width=64, height=48, fps=20))
    store = _CountingStore(target=11)
    capture = CaptureThread(source, store)
    capture.start()
    assert store.reached.wait(30)
    capture.stop(timeout=10.0)
    assert not capture._thread.is_alive()
    # never faster than the camera's 20 fps: after the first frame (which comes at once),
    # 9 intervals take at least 9 periods, less a little render jitter at the ends
    times = store.times[1:11]
    assert times[-1] - times[0] >= 9 * (1 / 20) * 0.9


_JPEG_16 = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))[1].tobytes()


class _HangingSource(CameraSource):
    """Delivers frames until ``hang`` is set, then blocks in read (a wedged driver) until
    ``release`` is set."""

    kind = "hanging"

    def __init__(self) -> None:
        super().__init__(SourceSettings("stuck"))
        self.hang = threading.Event()
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.sequence = 0

    def open(self):
        return SourceInfo(16, 16, 50.0, native_jpeg=True)

    def read(self):
        if self.hang.is_set():
            self.hanging.set()
            self.release.wait()
            self.release.clear()
        else:
            time.sleep(0.02)
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
        wait_for(lambda: store.latest("stuck"))
        assert not capture.check_stall(60.0)
        source.hang.set()
        assert source.hanging.wait(10)
        # a stall is judged at a given instant (an injected clock), no sleeping
        last = capture.state.status().last_frame_at
        assert not capture.check_stall(0.3, now=last + 0.1)
        assert capture.check_stall(0.3, now=last + 0.4)
        assert capture.state.status().failure and "no frame" in events[0]
        assert store.latest("stuck") is None
        assert not capture.check_stall(0.3, now=last + 5.0)  # reported once
        source.hang.clear()
        source.release.set()
        wait_for(lambda: store.latest("stuck"))
        wait_for(lambda: events[-1] is None)
    finally:
        source.hang.clear()
        source.release.set()
        capture.stop()


class _FlappingCamera(FailingCamera):
    """Delivers two frames after each open, then fails: a camera flapping as fast as the
    capture thread reopens it."""

    def __init__(self) -> None:
        super().__init__(SourceSettings("flappy", width=64, height=48, fps=100))
        self.flaps = 0
        self._since_open = 0

    def open(self):
        self._since_open = 0
        return super().open()

    def read(self):
        self._since_open += 1
        if self._since_open > 2:
            self.flaps += 1
            raise SourceError("stream ended")
        return super().read()


def test_a_flapping_camera_writes_a_few_lines_not_two_per_flap(caplog):
    """Issue 23: a camera flapping every second wrote ~147 lines a minute."""
    caplog.set_level(logging.INFO, logger="camera_service.capture.capture_thread")
    source = _FlappingCamera()
    capture = CaptureThread(source, FrameStore(), backoff=Backoff(**QUICK))
    capture.start()
    try:
        wait_for(lambda: source.flaps >= 30, timeout=30)
        capture.check_stall(60.0)  # the watchdog's tick flushes held-back lines
    finally:
        capture.stop()
    state_lines = [r for r in caplog.records if r.levelno >= logging.INFO
                   and ("stopped delivering" in r.getMessage()
                        or "delivering again" in r.getMessage())]
    print(f"\n{source.flaps} flaps: {len(state_lines)} state lines")
    assert len(state_lines) <= 6


class _RefusingCamera(FailingCamera):
    """Answers every open like a camera refusing the configured password (HTTP 401)."""

    def open(self):
        super().open()
        raise CredentialsRefused("camera at http://***@cam/ answered HTTP 401 Unauthorized: "
                                 "fix the user:password in 'url'")


def test_a_camera_refusing_the_credentials_is_retried_like_a_robot_login():
    """Issue 23: cameras answering 401 were retried about once a second forever (camera
    account lockout); they back off like the robot login: 15 s, doubling to 5 minutes."""
    source = _RefusingCamera(SourceSettings("locked", width=64, height=48, fps=10))
    capture = CaptureThread(source, FrameStore(), backoff=Backoff(**QUICK))
    capture.start()
    try:
        failure = wait_for(lambda: capture.state.status().failure)
        assert capture.refused_backoff.failures == 1
        assert "HTTP 401" in failure and "next attempt in 1" in failure  # 13.5-16.5 s
        delays = [capture.refused_backoff.next_delay() for _ in range(8)]
        assert all(13.5 <= a <= b * 1.25 for a, b in zip(delays, delays[1:]))
        assert 270 <= delays[-1] <= 330 and source.open_attempts == 1
    finally:
        capture.stop()
