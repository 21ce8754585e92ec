"""Turning V4L2 control descriptions into Controls and client values into driver values."""

from __future__ import annotations

import errno

import pytest
from camera_service.sources.v4l2.controls import (
    IoctlControls,
    control_name,
    describe_control,
    device_value,
)
from camera_service.sources.v4l2.ioctl import (
    CTRL_TYPE_BOOLEAN,
    CTRL_TYPE_BUTTON,
    CTRL_TYPE_INTEGER,
    CTRL_TYPE_INTEGER_MENU,
    RawControl,
)

ZOOM = RawControl(1, CTRL_TYPE_INTEGER, "Zoom, Absolute", 100, 500, 10, 100, 0)
LINK_FREQ = RawControl(2, CTRL_TYPE_INTEGER_MENU, "Link Frequency", 0, 1, 1, 0, 0,
                       menu=((0, "336000000"), (1, "448000000")))
AUTO_WB = RawControl(3, CTRL_TYPE_BOOLEAN, "White Balance Temperature, Auto", 0, 1, 1, 1, 0)
RESET = RawControl(4, CTRL_TYPE_BUTTON, "Pan, Reset", 0, 0, 0, 0, 0)


def test_names_are_snake_case():
    assert control_name("White Balance Temperature, Auto") == "white_balance_temperature_auto"
    assert control_name("Exposure Time, Absolute") == "exposure_time_absolute"


def test_integer_values_respect_range_and_step():
    assert device_value(ZOOM, 130) == 130
    assert device_value(ZOOM, 130.0) == 130
    with pytest.raises(ValueError, match="100 plus a multiple of 10"):
        device_value(ZOOM, 135)
    with pytest.raises(ValueError, match="between 100 and 500"):
        device_value(ZOOM, 90)
    with pytest.raises(ValueError, match="integer"):
        device_value(ZOOM, "130")
    with pytest.raises(ValueError, match="integer"):
        device_value(ZOOM, True)


def test_menus_take_entry_names_or_indexes_and_booleans_take_bools():
    assert device_value(LINK_FREQ, "448000000") == 1
    assert device_value(LINK_FREQ, 0) == 0
    with pytest.raises(ValueError, match="one of 336000000, 448000000"):
        device_value(LINK_FREQ, "1")
    assert device_value(AUTO_WB, False) == 0
    with pytest.raises(ValueError, match="true or false"):
        device_value(AUTO_WB, "on")


def test_descriptions_carry_range_step_and_menu_names():
    zoom = describe_control(ZOOM, 200)
    assert (zoom.kind, zoom.minimum, zoom.maximum, zoom.step, zoom.value) == \
        ("int", 100, 500, 10, 200)
    link = describe_control(LINK_FREQ, 1)
    assert (link.kind, link.choices, link.value, link.default) == \
        ("menu", ("336000000", "448000000"), "448000000", "336000000")
    assert describe_control(AUTO_WB, 0).value is False


class Device:
    """A control device whose reads and writes can be made to fail like a UVC camera."""

    def __init__(self):
        self.values = {ZOOM.id: 100, LINK_FREQ.id: 0, AUTO_WB.id: 1}
        self.read_error = {}
        self.write_error = None
        self.closed = False

    def query_controls(self):
        return [ZOOM, LINK_FREQ, AUTO_WB, RESET]

    def get_control(self, control_id):
        if control_id in self.read_error:
            raise OSError(self.read_error[control_id], "error")
        return self.values[control_id]

    def set_control(self, control_id, value):
        if self.write_error:
            raise OSError(self.write_error, "Device or resource busy")
        self.values[control_id] = value

    def close(self):
        self.closed = True


def test_unsupported_types_are_skipped_and_unreadable_controls_show_their_default():
    device = Device()
    device.read_error[ZOOM.id] = errno.EIO
    controls = {c.name: c for c in IoctlControls(device).list_controls()}
    assert set(controls) == {"zoom_absolute", "link_frequency",
                             "white_balance_temperature_auto"}
    assert controls["zoom_absolute"].value == 100


def test_refusal_is_a_value_error_but_a_vanished_camera_is_an_os_error():
    device = Device()
    controls = IoctlControls(device)
    device.write_error = errno.EBUSY
    with pytest.raises(ValueError, match="camera refused zoom_absolute=200"):
        controls.set_value("zoom_absolute", 200)
    device.write_error = errno.ENODEV
    with pytest.raises(OSError):
        controls.set_value("zoom_absolute", 200)
    device.read_error[ZOOM.id] = errno.ENODEV
    with pytest.raises(OSError):
        controls.list_controls()
    with pytest.raises(KeyError):
        controls.set_value("pan_reset", 1)
    controls.close()
    assert device.closed
