"""A camera node's offer as the page shows it: formats with sizes and rates (discrete and
stepwise), its controls; a device that stops answering leaves only that part empty."""

from __future__ import annotations

import errno

from camera_service.settings_page.camera_query import describe_device
from camera_service.sources.v4l2.ioctl import FrameInterval, FrameSize

from fake_cameras.v4l2_world import code_of, default_controls

YUYV, MJPG = code_of("YUYV"), code_of("MJPG")


class StepwiseCamera:
    """A device with a stepwise YUYV range and a discrete MJPG list (a vivid-like mix)."""

    def __init__(self, controls_fail: bool = False) -> None:
        self.controls_fail = controls_fail
        self.asked = []

    def formats(self):
        return [YUYV, MJPG]

    def frame_sizes(self, code):
        if code == YUYV:
            return [FrameSize("stepwise", 16, 16, 1920, 1080, 16, 8)]
        raise OSError(errno.ENODEV, "No such device")  # unplugged between two queries

    def frame_intervals(self, code, width, height):
        self.asked.append((code, width, height))
        return [FrameInterval("stepwise", 1 / 60, 1 / 2, 1 / 60)]

    def query_controls(self):
        if self.controls_fail:
            raise OSError(errno.EIO, "Input/output error")
        return default_controls()

    def get_control(self, control_id):
        return next(c.default for c in default_controls() if c.id == control_id)


def test_stepwise_range_with_the_rates_of_its_largest_size():
    camera = StepwiseCamera()
    offer = describe_device(camera)
    yuyv, mjpg = offer["formats"]
    assert yuyv == {"fourcc": "YUYV", "sizes": [{
        "kind": "stepwise", "width": 16, "height": 16, "max_width": 1920, "max_height": 1080,
        "step_width": 16, "step_height": 8,
        "rates": [{"kind": "stepwise", "min_fps": 2.0, "max_fps": 60.0}]}]}
    assert camera.asked == [(YUYV, 1920, 1080)]
    assert mjpg == {"fourcc": "MJPG", "sizes": []}
    brightness = next(c for c in offer["controls"] if c["name"] == "brightness")
    assert (brightness["min"], brightness["max"]) == (-64, 64)


def test_controls_that_cannot_be_read_leave_the_formats():
    offer = describe_device(StepwiseCamera(controls_fail=True))
    assert offer["controls"] == [] and len(offer["formats"]) == 2
