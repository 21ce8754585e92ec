"""``Cameras``: the one owner of the running cameras; its views always show the current
set, a change stops what it replaces or removes and starts what it brings."""

from __future__ import annotations

import pytest
from camera_service.capture.cameras import CameraChange, Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore
from camera_service.geometry.config import parse_geometry
from service_test_helpers import synthetic

from devtools.polling import wait_for


def _owner(*sources):
    store = FrameStore()
    return Cameras(store, lambda source: CaptureThread(source, store), sources=sources), store


def test_views_follow_every_change_and_replaced_cameras_stop():
    cameras, store = _owner(synthetic("a"), synthetic("b"))
    captures, states = cameras.captures, cameras.states
    cameras.start()
    try:
        old_b = captures["b"]
        wait_for(lambda: store.latest("b"))
        version = cameras.version
        cameras.change(CameraChange(add=[synthetic("c")], replace=[synthetic("b", fps=20)],
                                    remove=["a"], order=["c", "b"]), stop_timeout=2.0)
        assert list(captures) == ["c", "b"] and "a" not in captures
        assert captures["b"] is not old_b and cameras.version > version
        assert [state.name for state in states()] == ["c", "b"]
        wait_for(lambda: store.latest("c") and store.latest("b"))  # the new ones run
        frames = old_b.frames_captured
        wait_for(lambda: captures["b"].frames_captured > 2)
        assert old_b.frames_captured == frames  # the replaced one was stopped
    finally:
        cameras.stop(timeout=2.0)


def test_a_change_naming_an_unknown_camera_changes_nothing():
    cameras, _ = _owner(synthetic("a"))
    with pytest.raises(KeyError):
        cameras.change(CameraChange(remove=["nope"]), stop_timeout=1.0)
    with pytest.raises(KeyError):
        cameras.change(CameraChange(add=[synthetic("a")]), stop_timeout=1.0)
    assert list(cameras.captures) == ["a"] and cameras.version == 0


def test_geometry_is_held_per_camera():
    mounted = synthetic("m")
    mounted.settings.geometry = parse_geometry(
        {"mount": {"parent": "payload", "xyz": [0, 0, 0], "rpy_deg": [0, 0, 0]}}, "sources[0]")
    cameras, _ = _owner(synthetic("plain"), mounted)
    assert list(cameras.geometries) == ["m"]
    assert cameras.needs_payload_pose()
    cameras.change(CameraChange(remove=["m"]), stop_timeout=1.0)
    assert dict(cameras.geometries) == {} and not cameras.needs_payload_pose()
