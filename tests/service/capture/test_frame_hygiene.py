"""Frame hygiene at capture: damaged camera JPEGs dropped and counted, quirks normalized,
good frames passed as the same bytes, a camera sending only damaged frames failed."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_hygiene import DropFrame, FrameHygiene, UnusableFrames
from camera_service.capture.frame_store import FrameStore
from camera_service.core import jpeg
from camera_service.core.backoff import Backoff
from camera_service.core.errors import SourceError
from camera_service.sources.base import CameraSource, Frame, SourceInfo, SourceSettings
from service_test_helpers import wait_for

from fake_cameras import uvc_frames

INFO = SourceInfo(width=64, height=48, fps=30.0, native_jpeg=True)


@pytest.fixture(scope="module")
def good():
    ramp = np.tile(np.arange(64, dtype=np.uint8)[None, :, None] * 4, (48, 1, 3))
    return uvc_frames.encode(ramp)


def _frame(data, width=64, height=48):
    return Frame(1, time.time(), width, height, jpeg=data)


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _hygiene(**kwargs):
    hygiene = FrameHygiene("cam", **kwargs)
    hygiene.start(INFO)
    return hygiene


def test_a_good_frame_passes_as_the_same_object(good):
    frame = _frame(good)
    hygiene = _hygiene()
    assert hygiene.admit(frame) is frame
    assert hygiene.counts() == {"passed": 1, "tables_inserted": 0, "trimmed": 0,
                                "dropped": {}}


@pytest.mark.parametrize("quirk, counter", [("no_dht", "tables_inserted"),
                                            ("avi1", "tables_inserted"),
                                            ("padding", "trimmed")])
def test_served_quirks_are_normalized_and_counted(good, quirk, counter):
    hygiene = _hygiene()
    sent = uvc_frames.uvc_frame(good, quirk)
    admitted = hygiene.admit(_frame(sent))
    assert admitted is not None and admitted.jpeg == jpeg.normalized(sent, jpeg.parse(sent))
    assert jpeg.parse(admitted.jpeg).has_dht
    assert hygiene.counts()[counter] == 1 and hygiene.counts()["passed"] == 1


@pytest.mark.parametrize("quirk, kind", [("truncated", "truncated"), ("no_soi", "corrupt"),
                                         ("wrong_size", "wrong_size")])
def test_damaged_frames_are_dropped_and_counted_by_kind(good, quirk, kind):
    hygiene = _hygiene()
    assert hygiene.admit(_frame(uvc_frames.uvc_frame(good, quirk))) is None
    assert hygiene.admit(_frame(good)) is not None
    assert hygiene.counts()["dropped"] == {kind: 1}
    assert hygiene.counts()["passed"] == 1


def test_damage_inside_the_image_data_is_dropped(good):
    """A marker that cannot occur inside the entropy-coded data, a cut frame (no EOI) and a
    damaged header are all dropped (a damaged frame is never served)."""
    hygiene = _hygiene()
    inside = uvc_frames.uvc_frame(good, "corrupt")
    assert hygiene.admit(_frame(inside)) is None
    with pytest.raises(jpeg.JpegError):
        jpeg.parse(inside)
    assert hygiene.admit(_frame(uvc_frames.uvc_frame(good, "truncated"))) is None


def test_frame_size_comes_from_the_header_when_the_source_guessed(good):
    admitted = _hygiene().admit(_frame(uvc_frames.uvc_frame(good, "padding"), 1, 1))
    assert (admitted.width, admitted.height) == (64, 48)


def test_only_damaged_frames_for_a_second_fail_the_camera(good):
    clock = _Clock()
    hygiene = _hygiene(fault_after_frames=5, fault_after_seconds=1.0, clock=clock)
    truncated = _frame(uvc_frames.uvc_frame(good, "truncated"))
    for _ in range(29):  # under a second at 30 fps: dropped, not yet a fault
        assert hygiene.admit(truncated) is None
        clock.now += 1 / 30
    clock.now += 0.1
    with pytest.raises(UnusableFrames) as caught:
        hygiene.admit(truncated)
    message = str(caught.value)
    assert "camera 'cam' sends only unusable frames: 30 in a row" in message
    assert "truncated JPEG (no end-of-image marker)" in message and "USB bandwidth" in message
    assert isinstance(caught.value, SourceError)
    assert hygiene.counts()["dropped"] == {"truncated": 30}


def test_a_good_frame_ends_the_bad_run(good):
    clock = _Clock()
    hygiene = _hygiene(fault_after_frames=3, fault_after_seconds=0.5, clock=clock)
    corrupt = _frame(uvc_frames.uvc_frame(good, "no_soi"))
    for step in range(20):
        clock.now += 0.2
        frame = _frame(good) if step % 2 else corrupt
        hygiene.admit(frame)  # never raises: no run reaches 3 frames
    assert hygiene.counts()["dropped"] == {"corrupt": 10}


def test_reopening_starts_a_new_run(good):
    clock = _Clock()
    hygiene = _hygiene(fault_after_frames=3, fault_after_seconds=0.0, clock=clock)
    bad = _frame(uvc_frames.uvc_frame(good, "no_soi"))
    hygiene.admit(bad)
    hygiene.admit(bad)
    hygiene.start(INFO)
    hygiene.admit(bad)
    hygiene.admit(bad)
    with pytest.raises(UnusableFrames):
        hygiene.admit(bad)


def test_extra_checks_see_the_parsed_header_and_can_drop_or_fail(good):
    seen = []

    def budget(frame, layout, info):
        seen.append((layout.width, layout.height, info.width))
        if frame.sequence == 2:
            raise DropFrame("over_budget", "too big")
        if frame.sequence == 3:
            raise SourceError("camera 'cam' frames exceed the budget")

    hygiene = _hygiene(checks=[budget])
    assert hygiene.admit(_frame(good)) is not None
    assert hygiene.admit(Frame(2, 0.0, 64, 48, jpeg=good)) is None
    with pytest.raises(SourceError, match="exceed the budget"):
        hygiene.admit(Frame(3, 0.0, 64, 48, jpeg=good))
    assert seen == [(64, 48, 64)] * 3
    assert hygiene.counts()["dropped"] == {"over_budget": 1}


def test_pixel_frames_pass_to_the_checks_without_a_layout():
    layouts = []
    hygiene = _hygiene(checks=[lambda frame, layout, info: layouts.append(layout)])
    frame = Frame(1, 0.0, 64, 48, pixels=np.zeros((48, 64, 3), np.uint8))
    assert hygiene.admit(frame) is frame
    assert layouts == [None]


class _ScriptedJpegSource(CameraSource):
    """Delivers ``script`` (JPEG bytes) in a loop at ``fps``, like a camera would."""

    kind = "scripted"

    def __init__(self, script, fps=200.0):
        super().__init__(SourceSettings("cam", width=64, height=48, fps=fps))
        self.script = script
        self.opens = 0
        self._cycle = None
        self._sequence = itertools.count(1)

    def open(self):
        self.opens += 1
        self._cycle = itertools.cycle(self.script)
        return SourceInfo(width=64, height=48, fps=self.settings.fps, native_jpeg=True)

    def read(self):
        time.sleep(1.0 / self.settings.fps)
        return Frame(next(self._sequence), time.time(), 64, 48, jpeg=next(self._cycle))

    def close(self):
        self._cycle = None


class _RecordingStore(FrameStore):
    def __init__(self):
        super().__init__()
        self.stored = []

    def put(self, source, frame):
        self.stored.append(frame.jpeg)
        return super().put(source, frame)


def test_capture_stores_only_good_frames_normalized(good):
    no_dht = uvc_frames.uvc_frame(good, "no_dht")
    script = [uvc_frames.uvc_frame(good, "truncated"), good, no_dht,
              uvc_frames.uvc_frame(good, "no_soi")]
    store = _RecordingStore()
    capture = CaptureThread(_ScriptedJpegSource(script), store)
    capture.start()
    try:
        wait_for(lambda: len(store.stored) >= 6)
    finally:
        capture.stop()
    fixed = jpeg.normalized(no_dht, jpeg.parse(no_dht))
    assert set(store.stored) == {good, fixed}
    counts = capture.hygiene.counts()
    assert counts["dropped"]["truncated"] >= 3 and counts["dropped"]["corrupt"] >= 2
    assert capture.frames_captured == counts["passed"]


def test_capture_fails_a_camera_sending_only_damaged_frames_then_recovers(good):
    source = _ScriptedJpegSource([uvc_frames.uvc_frame(good, "truncated")])
    store = FrameStore()
    events = []
    capture = CaptureThread(source, store, lambda status: events.append(status.failure),
                            backoff=Backoff(initial=0.02, maximum=0.05),
                            hygiene=FrameHygiene("cam", fault_after_seconds=0.2))
    capture.start()
    try:
        wait_for(lambda: events)
        assert store.latest("cam") is None
        assert "sends only unusable frames" in events[0] and "truncated" in events[0]
        assert capture.state.status().failure == events[0]
        source.script = [good]  # the camera is fixed: taken at the next reopen
        wait_for(lambda: len(events) == 2)
        assert events[1] is None and store.latest("cam").frame.jpeg == good
        assert source.opens >= 2  # the capture loop reopened the camera
    finally:
        capture.stop()
