"""V4L2 frame times: a frame's capture_time is its buffer timestamp (the driver's
CLOCK_MONOTONIC when it was taken) mapped to wall-clock time, not the time it was read;
timestamps the driver copies from a writer, or that are not recent monotonic times, fall back
to the read time. Injected clocks, no sleeps."""

from __future__ import annotations

import logging

import pytest
from camera_service.core.clock_map import MonotonicToWall

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World, thermal_camera

WALL_OFFSET = 1_700_000_000.25  # wall = monotonic + this, on the injected clocks
QUEUED = 0.035  # each frame was taken this long before it is read


class Clock:
    """The machine's monotonic clock (set by the test) and a wall clock that follows it."""

    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + WALL_OFFSET

    def mapping(self) -> MonotonicToWall:
        return MonotonicToWall(self.monotonic, self.wall)


@pytest.fixture
def world(tmp_path):
    return FakeV4L2World(str(tmp_path))


def open_source(world, clock, **camera_fields):
    def taken() -> float:  # the driver stamps the frame QUEUED before it is read
        return clock.now - QUEUED
    camera = world.plug(FakeCamera(clock=taken, **camera_fields))
    source = world.source(camera, clock=clock.mapping())
    source.open()
    return camera, source


@pytest.mark.parametrize("kind", ["monotonic", "unknown"])
def test_frames_are_timed_by_the_driver_s_monotonic_timestamp(world, kind):
    clock = Clock()
    camera, source = open_source(world, clock, timestamp_kind=kind)
    for step in (0.0, 0.1, 0.0333):
        clock.now += step
        frame = source.read()
        taken = camera.sent_times[-1]
        assert frame.capture_time == pytest.approx(taken + WALL_OFFSET, abs=2e-6)
        assert clock.wall() - frame.capture_time == pytest.approx(QUEUED, abs=2e-6)
    source.close()


def test_timestamps_copied_from_a_writer_are_not_used(world):
    clock = Clock()
    _, source = open_source(world, clock, timestamp_kind="copy")
    assert source.read().capture_time == clock.wall()
    source.close()


def test_a_stamp_that_is_not_a_recent_monotonic_time_falls_back_to_the_read_time(
        world, caplog):
    clock = Clock()
    camera = world.plug(FakeCamera(clock=lambda: clock.now + WALL_OFFSET,  # a wall clock
                                   timestamp_kind="unknown"))
    source = world.source(camera, clock=clock.mapping())
    source.open()
    with caplog.at_level(logging.WARNING):
        times = [source.read().capture_time for _ in range(3)]
    assert times == [clock.wall()] * 3
    warnings = [r for r in caplog.records if "not a recent monotonic time" in r.getMessage()]
    assert len(warnings) == 1  # once per open, not per frame
    source.close()


def test_sixteen_bit_frames_carry_their_buffer_time_too(world):
    clock = Clock()
    camera = world.plug(thermal_camera(clock=lambda: clock.now - QUEUED))
    source = world.source(camera, clock=clock.mapping(), format="Y16")
    source.open()
    frame = source.read()
    assert frame.sixteen_bit
    assert frame.capture_time == pytest.approx(camera.sent_times[-1] + WALL_OFFSET, abs=2e-6)
    source.close()


def test_a_driver_without_timestamps_is_timed_when_read(world, caplog):
    clock = Clock()
    camera = world.plug(FakeCamera(clock=lambda: 0.0, timestamp_kind="unknown"))  # no stamps
    source = world.source(camera, clock=clock.mapping())
    source.open()
    with caplog.at_level(logging.WARNING):
        assert source.read().capture_time == clock.wall()
    assert "no buffer timestamp: frames timed when read" in caplog.text
    source.close()
