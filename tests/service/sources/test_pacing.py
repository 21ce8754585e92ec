"""FramePacer on an injected clock: frames spaced 1/fps apart, no backlog after a late one."""

from __future__ import annotations

import pytest
from camera_service.sources.pacing import FramePacer
from service_test_helpers import ManualClock


class _Clock(ManualClock):
    """A monotonic clock that only moves when told to, or when the pacer sleeps."""

    def __init__(self) -> None:
        super().__init__(100.0)
        self.slept = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_frames_are_spaced_one_period_apart():
    clock = _Clock()
    pacer = FramePacer(50.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        pacer.wait()
    assert clock.slept == [0.02, 0.02, 0.02]  # the first frame comes at once
    clock.now += 0.005  # work between frames counts toward the period
    pacer.wait()
    assert clock.slept[-1] == 0.015


def test_a_late_frame_does_not_build_a_backlog():
    clock = _Clock()
    pacer = FramePacer(50.0, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.2  # a slow consumer: 10 periods late
    pacer.wait()  # returns at once ...
    assert clock.slept == []
    pacer.wait()  # ... and the next one is a full period later: no burst of 10
    pacer.wait()
    assert clock.slept == [0.02, 0.02]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="fps"):
        FramePacer(0)
