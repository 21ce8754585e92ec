"""Monotonic -> wall mapping: the tightest bracket wins, a stale offset is measured again."""

from __future__ import annotations

import pytest
from camera_service.core.clock_map import MonotonicToWall


class Clocks:
    """A monotonic clock the test sets and a wall clock that answers a scripted list."""

    def __init__(self, walls):
        self.mono = 100.0
        self.walls = list(walls)

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.walls.pop(0)


def test_offset_comes_from_the_tightest_bracket():
    # Three brackets around monotonic 100.0: 4 ms, 0.2 ms (offset 1000.0) and 2 ms wide.
    clocks = Clocks([1099.990, 1099.994, 1099.9999, 1100.0001, 1100.010, 1100.012])
    mapping = MonotonicToWall(clocks.monotonic, clocks.wall, samples=3)
    assert mapping.to_wall(90.0) == pytest.approx(1090.0, abs=1e-9)
    assert mapping.bracket == pytest.approx(0.0002)
    assert clocks.walls == []


def test_offset_is_reused_until_refresh_then_measured_again():
    clocks = Clocks([1100.0, 1100.0])
    mapping = MonotonicToWall(clocks.monotonic, clocks.wall, samples=1, refresh=10.0)
    assert mapping.to_wall(100.0) == pytest.approx(1100.0)
    clocks.mono = 109.0  # within refresh: no wall reads (the list is empty)
    assert mapping.to_wall(109.0) == pytest.approx(1109.0)
    clocks.mono, clocks.walls = 110.0, [1115.0, 1115.0]  # the wall clock was stepped 5 s
    assert mapping.to_wall(110.0) == pytest.approx(1115.0)


def test_samples_must_be_positive():
    with pytest.raises(ValueError):
        MonotonicToWall(samples=0)
