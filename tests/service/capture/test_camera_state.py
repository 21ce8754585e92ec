"""What a camera actually delivers, counted where frames arrive: the rate over the last
window (injected clock), the size of the last frame, nothing made up before a frame."""

from __future__ import annotations

from camera_service.capture.camera_state import RATE_WINDOW, CameraState


def test_rate_is_counted_from_delivered_frames():
    state = CameraState("cam")
    assert state.delivered_fps(now=0.0) is None  # nothing delivered yet: no figure
    for index in range(31):  # 30 intervals of 1/15 s
        state.delivered(now=10.0 + index / 15, size=(320, 240))
    assert abs(state.delivered_fps(now=12.0) - 15.0) < 1e-6
    assert state.status().frame_size == (320, 240)


def test_rate_falls_to_zero_when_frames_stop_and_size_follows_the_frames():
    state = CameraState("cam")
    state.delivered(now=1.0, size=(1280, 720))
    assert state.delivered_fps(now=1.0) is None  # one frame: too few to say
    state.delivered(now=1.5, size=(640, 480))  # the camera changed its mode
    assert state.delivered_fps(now=1.5) == 2.0
    assert state.status().frame_size == (640, 480)
    assert state.delivered_fps(now=1.5 + RATE_WINDOW + 0.1) == 0.0


def test_a_camera_that_never_delivered_has_no_size():
    state = CameraState("cam")
    state.failed("camera 'cam' unavailable: refused")
    assert state.status().frame_size is None and state.delivered_fps(now=5.0) is None
