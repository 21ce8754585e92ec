"""The ioctl layer: request numbers, struct layouts and control enumeration, driven by a
fake kernel in place of fcntl.ioctl (no /dev/video exists on this machine)."""

from __future__ import annotations

import errno

import pytest
from camera_service.sources.v4l2 import ioctl as v4l2

from fake_cameras.v4l2_world import default_controls


def test_request_numbers_match_videodev2_h():
    # Values of the macros as compiled on Linux (x86-64 and arm64 alike).
    assert v4l2.VIDIOC_QUERYCAP == 0x80685600
    assert v4l2.VIDIOC_G_CTRL == 0xC008561B
    assert v4l2.VIDIOC_S_CTRL == 0xC008561C
    assert v4l2.VIDIOC_QUERYCTRL == 0xC0445624
    assert v4l2.VIDIOC_QUERYMENU == 0xC02C5625
    assert v4l2.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert v4l2.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B
    assert v4l2.VIDIOC_QUERYBUF == 0xC0585609  # struct v4l2_buffer: 88 bytes on 64-bit


MJPG, YUYV = 0x47504A4D, 0x56595559
DISCRETE_SIZES = [(1920, 1080), (640, 480)]  # MJPG: discrete sizes, each 30 or 15 frames/s
STEPWISE = (160, 1280, 16, 120, 720, 8)  # YUYV: min, max, step of width, then of height


class FakeKernel:
    """Answers the V4L2 ioctls for one device the way a UVC driver does."""

    def __init__(self, caps: int) -> None:
        self.caps = caps
        self.controls = {c.id: c for c in default_controls()}
        self.values = {c.id: c.default for c in self.controls.values()}
        self.buffers = 0  # capture buffers requested (by another descriptor)
        self.timestamp_flags = v4l2.BUF_FLAG_TIMESTAMP_MONOTONIC

    def ioctl(self, fd, request, arg, mutate=True):
        if request == v4l2.VIDIOC_QUERYCAP:
            arg.driver, arg.card = b"uvcvideo", b"HD Pro Webcam C920"
            arg.capabilities = self.caps | v4l2.CAP_DEVICE_CAPS | v4l2.CAP_META_CAPTURE
            arg.device_caps = self.caps
        elif request == v4l2.VIDIOC_QUERYCTRL:
            wanted = arg.id & ~v4l2.CTRL_FLAG_NEXT_CTRL
            after = [i for i in sorted(self.controls) if i > wanted]
            if not (arg.id & v4l2.CTRL_FLAG_NEXT_CTRL) or not after:
                raise OSError(errno.EINVAL, "Invalid argument")
            raw = self.controls[after[0]]
            arg.id, arg.type, arg.name = raw.id, raw.type, raw.name.encode()
            arg.minimum, arg.maximum, arg.step = raw.minimum, raw.maximum, raw.step
            arg.default_value, arg.flags = raw.default, raw.flags
        elif request == v4l2.VIDIOC_QUERYMENU:
            entries = dict(self.controls[arg.id].menu)
            if arg.index not in entries:
                raise OSError(errno.EINVAL, "Invalid argument")
            arg.item.name = entries[arg.index].encode()
        elif request == v4l2.VIDIOC_ENUM_FRAMESIZES:
            self._frame_size(arg)
        elif request == v4l2.VIDIOC_ENUM_FRAMEINTERVALS:
            self._frame_interval(arg)
        elif request == v4l2.VIDIOC_QUERYBUF:
            if arg.type != v4l2.BUF_TYPE_VIDEO_CAPTURE or arg.index >= self.buffers:
                raise OSError(errno.EINVAL, "Invalid argument")
            arg.flags = self.timestamp_flags | 0x0001  # V4L2_BUF_FLAG_MAPPED
            arg.timestamp.tv_sec, arg.timestamp.tv_usec = 12, 345678
        elif request == v4l2.VIDIOC_G_CTRL:
            arg.value = self.values[arg.id]
        elif request == v4l2.VIDIOC_S_CTRL:
            self.values[arg.id] = arg.value
        else:
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")
        return 0

    @staticmethod
    def _frame_size(arg) -> None:
        if arg.pixel_format == MJPG and arg.index < len(DISCRETE_SIZES):
            arg.type = v4l2.FRM_TYPE_DISCRETE
            arg.size.discrete.width, arg.size.discrete.height = DISCRETE_SIZES[arg.index]
        elif arg.pixel_format == YUYV and arg.index == 0:
            arg.type = v4l2.FRM_TYPE_STEPWISE
            step = arg.size.stepwise
            (step.min_width, step.max_width, step.step_width, step.min_height,
             step.max_height, step.step_height) = STEPWISE
        else:
            raise OSError(errno.EINVAL, "Invalid argument")

    @staticmethod
    def _frame_interval(arg) -> None:
        size = (arg.width, arg.height)
        if arg.pixel_format == MJPG and size in DISCRETE_SIZES and arg.index < 2:
            arg.type = v4l2.FRM_TYPE_DISCRETE
            arg.interval.discrete.numerator = 1
            arg.interval.discrete.denominator = (30, 15)[arg.index]
        elif arg.pixel_format == YUYV and arg.index == 0:
            arg.type = v4l2.FRM_TYPE_STEPWISE
            interval = arg.interval.stepwise
            interval.min.numerator, interval.min.denominator = 1, 60
            interval.max.numerator, interval.max.denominator = 1, 5
            interval.step.numerator, interval.step.denominator = 1, 60
        else:
            raise OSError(errno.EINVAL, "Invalid argument")


@pytest.fixture
def device(tmp_path, monkeypatch):
    kernel = FakeKernel(v4l2.CAP_VIDEO_CAPTURE | v4l2.CAP_STREAMING)
    monkeypatch.setattr(v4l2.fcntl, "ioctl", kernel.ioctl)
    node = tmp_path / "video0"
    node.write_bytes(b"")
    with v4l2.V4L2Device(str(node)) as dev:
        yield dev, kernel


def test_capabilities_use_the_node_s_own_device_caps(device):
    dev, _ = device
    caps = dev.capabilities()
    assert caps.driver == "uvcvideo" and caps.card == "HD Pro Webcam C920"
    assert caps.can_capture


def test_control_enumeration_reads_every_control_and_skips_menu_holes(device):
    dev, kernel = device
    controls = {c.name: c for c in dev.query_controls()}
    assert set(controls) == {c.name for c in kernel.controls.values()}
    assert controls["Auto Exposure"].menu == ((1, "Manual Mode"), (3, "Aperture Priority Mode"))
    assert controls["Brightness"].minimum == -64 and controls["Brightness"].maximum == 64


def test_get_and_set_control_round_trip_negative_values(device):
    dev, kernel = device
    dev.set_control(0x00980900, -17)
    assert kernel.values[0x00980900] == -17
    assert dev.get_control(0x00980900) == -17


def test_closed_device_raises_and_close_is_idempotent(device):
    dev, _ = device
    dev.close()
    dev.close()
    with pytest.raises(OSError):
        dev.get_control(0x00980900)


def test_query_capabilities_of_something_that_is_not_a_video_node(tmp_path):
    plain = tmp_path / "not-a-camera"
    plain.write_bytes(b"")
    assert v4l2.query_capabilities(str(plain)) is None  # ENOTTY from the real kernel
    assert v4l2.query_capabilities(str(tmp_path / "absent")) is None



def test_discrete_frame_sizes_and_intervals(device):
    dev, _ = device
    sizes = dev.frame_sizes(MJPG)
    assert [(s.kind, s.min_width, s.min_height) for s in sizes] == [
        ("discrete", 1920, 1080), ("discrete", 640, 480)]
    assert all((s.max_width, s.max_height) == (s.min_width, s.min_height) for s in sizes)
    rates = dev.frame_intervals(MJPG, 640, 480)
    assert [(r.kind, round(r.max_fps, 3)) for r in rates] == [("discrete", 30.0),
                                                             ("discrete", 15.0)]
    assert dev.frame_intervals(MJPG, 800, 600) == []  # a size the format does not have


def test_stepwise_frame_sizes_and_intervals(device):
    dev, _ = device
    (size,) = dev.frame_sizes(YUYV)
    assert size.kind == "stepwise"
    assert (size.min_width, size.max_width, size.step_width, size.min_height,
            size.max_height, size.step_height) == STEPWISE
    (rate,) = dev.frame_intervals(YUYV, 1280, 720)
    assert rate.kind == "stepwise"
    assert (round(rate.min_fps, 3), round(rate.max_fps, 3)) == (5.0, 60.0)
    assert rate.step == pytest.approx(1 / 60)
    assert dev.frame_sizes(0x34363248) == []  # H264: not offered


def test_timestamp_kind_from_the_buffer_flags(device):
    dev, kernel = device
    with pytest.raises(OSError):  # no buffers requested yet
        dev.timestamp_kind()
    kernel.buffers = 4
    for flags, kind in ((v4l2.BUF_FLAG_TIMESTAMP_MONOTONIC, "monotonic"),
                        (v4l2.BUF_FLAG_TIMESTAMP_COPY, "copy"),
                        (v4l2.BUF_FLAG_TIMESTAMP_UNKNOWN, "unknown")):
        kernel.timestamp_flags = flags
        assert dev.timestamp_kind() == kind
