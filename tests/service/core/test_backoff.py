"""Retry delays: ``Backoff`` doubles per attempt; ``GoneBackoff`` follows how long the camera
has been gone, so a camera that comes back is reopened within a second."""

from __future__ import annotations

import time

from camera_service.app.service import RetryTiming
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore
from camera_service.core.backoff import Backoff, GoneBackoff
from camera_service.sources.base import SourceSettings
from service_test_helpers import ManualClock as _Clock
from service_test_helpers import wait_for

from fake_cameras.failing_camera import FailingCamera


def test_backoff_doubles_up_to_its_maximum():
    backoff = Backoff(initial=0.5, maximum=4.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_gone_backoff_follows_the_time_gone_and_is_capped():
    clock = _Clock()
    backoff = GoneBackoff(initial=0.1, maximum=0.9, growth=0.1, jitter=0.0, clock=clock)
    delays = []
    for gone in (0.0, 0.5, 1.0, 3.0, 6.0, 60.0, 3600.0):
        clock.now = gone
        delays.append(round(backoff.next_delay(), 3))
    assert delays == [0.1, 0.1, 0.1, 0.3, 0.6, 0.9, 0.9]
    assert backoff.failures == 7
    backoff.reset()
    clock.now = 5000.0
    assert backoff.next_delay() == 0.1 and backoff.failures == 1


def test_a_camera_gone_for_a_while_is_reopened_within_a_second_of_coming_back():
    source = FailingCamera(SourceSettings("cam", width=64, height=48, fps=30))
    store = FrameStore()
    capture = CaptureThread(source, store, backoff=RetryTiming().camera())
    capture.start()
    try:
        wait_for(lambda: store.latest("cam"))
        source.stop_delivering()
        wait_for(lambda: capture.state.status().failure)
        time.sleep(5.0)  # a doubling backoff (0.5 s, 1, 2, 4 ...) would now wait 4 s
        opens = source.open_count
        source.resume()
        back = time.monotonic()
        wait_for(lambda: source.open_count > opens, timeout=5)
        assert time.monotonic() - back < 1.0
    finally:
        capture.stop()
