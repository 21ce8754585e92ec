"""Latest-frame store: serials, withdrawn frames, waiting for a newer frame."""

from __future__ import annotations

import threading
import time

from camera_service.capture.frame_store import FrameStore
from camera_service.sources.base import Frame


def _frame(sequence):
    return Frame(sequence, time.time(), 16, 16, jpeg=b"x", jpeg_quality=75)


def test_serials_keep_increasing_when_a_source_restarts_its_counter():
    store = FrameStore()
    first = store.put("cam", _frame(5))
    second = store.put("cam", _frame(1))  # reopened camera counts from 1 again
    assert second.serial > first.serial
    assert store.latest("cam") is second
    assert store.latest("other") is None


def test_withdraw_drops_the_frame_until_the_next_one():
    store = FrameStore()
    store.put("cam", _frame(1))
    store.withdraw("cam")
    assert store.latest("cam") is None
    assert store.wait_for_frame("cam", 0, timeout=0) is None
    store.put("cam", _frame(2))
    assert store.latest("cam") is not None


def test_wait_for_frame_returns_a_newer_frame_or_none():
    store = FrameStore()
    current = store.put("cam", _frame(1))
    assert store.wait_for_frame("cam", current.serial, timeout=0.05) is None
    threading.Timer(0.05, lambda: store.put("cam", _frame(2))).start()
    newer = store.wait_for_frame("cam", current.serial, timeout=2.0)
    assert newer is not None and newer.serial == current.serial + 1


def test_wait_for_frame_gives_up_when_the_source_fails():
    store = FrameStore()
    results = []
    waiter = threading.Thread(target=lambda: results.append(
        store.wait_for_frame("cam", 0, timeout=600.0)))
    waiter.start()
    store.withdraw("cam")  # before or during the wait: either way it must not wait on
    waiter.join(timeout=30)
    assert not waiter.is_alive() and results == [None]
