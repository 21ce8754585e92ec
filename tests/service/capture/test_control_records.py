"""The per-frame record of the controls in effect (``Frame.controls``): stamped by the
capture thread, the generation of a change shown only once the frames the driver had
queued are drained, and waited for through the frame store."""

from __future__ import annotations

import threading
from typing import List

from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.control_records import ControlRecords
from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.sources.base import Control

from devtools.polling import wait_for
from fake_cameras.v4l2_world import BRIGHTNESS_ID, FakeCamera, FakeV4L2World


class _RecordingStore(FrameStore):
    """A frame store that also keeps every frame put (the real one keeps the latest)."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: List[StoredFrame] = []
        self._stored_lock = threading.Lock()

    def put(self, source, frame):
        stored = super().put(source, frame)
        with self._stored_lock:
            self.stored.append(stored)
        return stored

    def since(self, serial: int) -> List[StoredFrame]:
        with self._stored_lock:
            return [s for s in self.stored if s.serial > serial]


def test_frames_queued_before_a_change_keep_the_old_record(tmp_path):
    world = FakeV4L2World(str(tmp_path))
    camera = world.plug(FakeCamera(queued_buffers=4, shows_brightness=True, paced=True,
                                   modes={"YUYV": {(64, 48): 100.0}}))
    store = _RecordingStore()
    capture = CaptureThread(world.source(camera, name="usb", fps=100, format="YUYV"), store)
    capture.start()
    try:
        before = wait_for(lambda: store.latest("usb"))
        assert before.frame.controls.values["brightness"] == 0
        generation = capture.set_control("brightness", 30)
        assert generation == capture.controls_issued == before.frame.controls.generation + 1
        shown = store.wait_for_controls("usb", generation, timeout=10)
        assert shown is not None
        assert shown.frame.controls.values["brightness"] == 30
        assert shown.frame.pixels[0, 0, 0] == 128 + 30
        drained = [s for s in store.since(before.serial) if s.serial < shown.serial]
        # The 4 frames queued at the change came first, with the old value; a frame under
        # way at the change may show either value: the record keeps the old generation
        # for all of them (it may be late, never early).
        assert sum(s.frame.pixels[0, 0, 0] == 128 for s in drained) >= 4
        assert {s.frame.controls.generation for s in drained} == {generation - 1}
        assert camera.values[BRIGHTNESS_ID] == 30
    finally:
        capture.stop()


def _brightness(value: int) -> Control:
    return Control("brightness", "int", 0, value, minimum=-64, maximum=64)


def test_a_read_under_way_at_the_change_does_not_count_toward_the_drain():
    records = ControlRecords()
    records.opened([_brightness(0)], queued=1)
    under_way = records.read_started()
    generation = records.changed({"brightness": 5})
    assert records.read_done(under_way).generation == generation - 1  # began before
    first = records.read_started()
    assert records.read_done(first).generation == generation - 1  # the queued frame
    second = records.read_started()
    record = records.read_done(second)
    assert (record.generation, dict(record.values)) == (generation, {"brightness": 5})


def test_a_reopen_applies_every_change_made_while_closed():
    records = ControlRecords()
    records.opened([_brightness(0)], queued=4)
    generation = records.changed({"brightness": 7})
    records.opened([_brightness(7)], queued=4)  # the open re-applied the setting
    record = records.read_done(records.read_started())
    assert (record.generation, record.values["brightness"]) == (generation, 7)


def test_wait_for_controls_ends_when_the_camera_fails():
    store = FrameStore()
    failed = threading.Timer(0, lambda: store.withdraw("cam"))
    failed.start()
    assert store.wait_for_controls("cam", 1, timeout=30) is None
    failed.join()
