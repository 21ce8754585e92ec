"""The ioctl layer: request numbers, struct layouts and control enumeration, driven by a
fake kernel in place of fcntl.ioctl (no /dev/video exists on this machine)."""

from __future__ import annotations

import errno

import pytest
from camera_service.sources import v4l2_ioctl as v4l2

from fake_cameras.v4l2_world import default_controls


def test_request_numbers_match_videodev2_h():
    # Values of the macros as compiled on Linux (x86-64 and arm64 alike).
    assert v4l2.VIDIOC_QUERYCAP == 0x80685600
    assert v4l2.VIDIOC_G_CTRL == 0xC008561B
    assert v4l2.VIDIOC_S_CTRL == 0xC008561C
    assert v4l2.VIDIOC_QUERYCTRL == 0xC0445624
    assert v4l2.VIDIOC_QUERYMENU == 0xC02C5625


class FakeKernel:
    """Answers the V4L2 ioctls for one device the way a UVC driver does."""

    def __init__(self, caps: int) -> None:
        self.caps = caps
        self.controls = {c.id: c for c in default_controls()}
        self.values = {c.id: c.default for c in self.controls.values()}

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
        elif request == v4l2.VIDIOC_G_CTRL:
            arg.value = self.values[arg.id]
        elif request == v4l2.VIDIOC_S_CTRL:
            self.values[arg.id] = arg.value
        else:
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")
        return 0


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
    assert caps.can_capture and not caps.metadata_only


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

