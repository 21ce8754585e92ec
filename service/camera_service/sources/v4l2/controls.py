"""A V4L2 camera's controls as ``Control`` objects: names, ranges, menus read from the device.

Two backends behind one small interface (``list_controls`` / ``set_value`` / ``close``):
- ``IoctlControls``: the real ranges, defaults and menu entries from ``VIDIOC_QUERYCTRL`` /
  ``VIDIOC_QUERYMENU`` on a descriptor of its own, so it is safe to use from RPC threads
  while the capture thread streams;
- ``OpenCVControls``: the fallback when ioctls are unavailable; OpenCV's ``CAP_PROP_*``
  without ranges. OpenCV captures are not thread-safe, so changes are queued and applied
  by the capture thread (``apply_pending``) before its next read.

Names are the driver's names in snake case ("White Balance Temperature, Auto" becomes
``white_balance_temperature_auto``). Menu controls take and report entry names; an entry's
index is accepted too.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from typing import Callable, Dict, List, Optional, Protocol, Tuple

import cv2

from camera_service.sources.base import Control, ControlValue
from camera_service.sources.v4l2.ioctl import (
    CTRL_FLAG_DISABLED,
    CTRL_FLAG_READ_ONLY,
    CTRL_FLAG_WRITE_ONLY,
    CTRL_TYPE_BOOLEAN,
    CTRL_TYPE_INTEGER,
    CTRL_TYPE_INTEGER_MENU,
    CTRL_TYPE_MENU,
    RawControl,
    V4L2Device,
)

_KINDS = {
    CTRL_TYPE_INTEGER: "int",
    CTRL_TYPE_BOOLEAN: "bool",
    CTRL_TYPE_MENU: "menu",
    CTRL_TYPE_INTEGER_MENU: "menu",
}
_SKIPPED_FLAGS = CTRL_FLAG_DISABLED | CTRL_FLAG_READ_ONLY | CTRL_FLAG_WRITE_ONLY
# errno values meaning the device went away (not a refusal of the value).
_GONE = (errno.ENODEV, errno.ENOENT, errno.EBADF, errno.ENXIO)


class ControlDevice(Protocol):
    """What ``IoctlControls`` needs from a device (``V4L2Device`` or a test double)."""

    def query_controls(self) -> List[RawControl]: ...
    def get_control(self, control_id: int) -> int: ...
    def set_control(self, control_id: int, value: int) -> None: ...
    def close(self) -> None: ...


ControlDeviceFactory = Callable[[str], ControlDevice]


class ControlBackend(Protocol):
    """The controls of one open camera."""

    def list_controls(self) -> List[Control]: ...
    def set_value(self, name: str, value: ControlValue) -> None: ...
    def close(self) -> None: ...


def control_name(driver_name: str) -> str:
    """The driver's control name in snake case, as clients see it."""
    return re.sub(r"[^a-z0-9]+", "_", driver_name.lower()).strip("_")


def describe_control(raw: RawControl, current: int) -> Control:
    """``raw`` with its current device value as a ``Control`` (menus by entry name)."""
    kind = _KINDS[raw.type]
    if kind == "bool":
        return Control(control_name(raw.name), "bool", bool(raw.default), bool(current),
                       description=raw.name)
    if kind == "menu":
        names = dict(raw.menu)
        return Control(control_name(raw.name), "menu",
                       names.get(raw.default, str(raw.default)), names.get(current, str(current)),
                       choices=tuple(names[index] for index, _ in raw.menu), description=raw.name)
    return Control(control_name(raw.name), "int", raw.default, current, minimum=raw.minimum,
                   maximum=raw.maximum, step=raw.step or 1, description=raw.name)


def device_value(raw: RawControl, value: ControlValue) -> int:
    """``value`` as the integer the driver takes; ``ValueError`` (one line) when it does not
    fit the control's type, range, step or menu."""
    name = control_name(raw.name)
    kind = _KINDS[raw.type]
    if kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if kind == "menu":
        for index, entry in raw.menu:
            if value == entry or (not isinstance(value, bool) and value == index):
                return index
        choices = ", ".join(entry for _, entry in raw.menu)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    number = int(value)
    if not raw.minimum <= number <= raw.maximum:
        raise ValueError(f"{name} must be between {raw.minimum} and {raw.maximum}, got {number}")
    step = raw.step or 1
    if (number - raw.minimum) % step:
        raise ValueError(f"{name} must be {raw.minimum} plus a multiple of {step}, got {number}")
    return number


class IoctlControls:
    """Controls through V4L2 ioctls on a descriptor separate from the capture one.

    The control table is read once at construction. Thread-safe. ``set_value`` raises
    ``KeyError`` (unknown name), ``ValueError`` (bad value, or the camera refused it).
    """

    def __init__(self, device: ControlDevice) -> None:
        self._device = device
        self._lock = threading.Lock()
        table: Dict[str, RawControl] = {}
        for raw in device.query_controls():
            if raw.type in _KINDS and not raw.flags & _SKIPPED_FLAGS:
                table.setdefault(control_name(raw.name), raw)
        self._table = table

    def list_controls(self) -> List[Control]:
        """Controls with current values. ``OSError`` when the camera is gone."""
        with self._lock:
            return [describe_control(raw, self._current(raw)) for raw in self._table.values()]

    def _current(self, raw: RawControl) -> int:
        try:
            return self._device.get_control(raw.id)
        except OSError as err:
            if err.errno in _GONE:
                raise
            return raw.default  # some UVC controls cannot be read back (EIO): show the default

    def set_value(self, name: str, value: ControlValue) -> None:
        """``KeyError``: no such control; ``ValueError``: bad value or refused by the camera;
        ``OSError``: the camera is gone."""
        raw = self._table[name]
        number = device_value(raw, value)
        with self._lock:
            try:
                self._device.set_control(raw.id, number)
            except OSError as err:
                if err.errno in _GONE:
                    raise
                raise ValueError(f"camera refused {name}={value!r}: {err.strerror or err}"
                                 ) from None

    def close(self) -> None:
        with self._lock:
            self._device.close()


# OpenCV properties offered when ioctls are not available (names match the V4L2 ones).
_OPENCV_PROPERTIES: Tuple[Tuple[str, int], ...] = (
    ("brightness", cv2.CAP_PROP_BRIGHTNESS),
    ("contrast", cv2.CAP_PROP_CONTRAST),
    ("saturation", cv2.CAP_PROP_SATURATION),
    ("hue", cv2.CAP_PROP_HUE),
    ("gain", cv2.CAP_PROP_GAIN),
    ("sharpness", cv2.CAP_PROP_SHARPNESS),
    ("gamma", cv2.CAP_PROP_GAMMA),
    ("auto_exposure", cv2.CAP_PROP_AUTO_EXPOSURE),
    ("exposure_time_absolute", cv2.CAP_PROP_EXPOSURE),
    ("white_balance_automatic", cv2.CAP_PROP_AUTO_WB),
    ("white_balance_temperature", cv2.CAP_PROP_WB_TEMPERATURE),
    ("focus_automatic_continuous", cv2.CAP_PROP_AUTOFOCUS),
    ("focus_absolute", cv2.CAP_PROP_FOCUS),
    ("zoom_absolute", cv2.CAP_PROP_ZOOM),
)


class OpenCVControls:
    """Controls through ``capture.get/set`` (no ranges known). ``set_value`` only queues the
    change; the capture thread calls ``apply_pending`` between reads."""

    def __init__(self, capture: object) -> None:
        self._capture = capture
        self._lock = threading.Lock()
        self._pending: Dict[str, float] = {}
        self._values: Dict[str, float] = {}
        for name, prop in _OPENCV_PROPERTIES:
            value = capture.get(prop)  # type: ignore[attr-defined]
            if value != -1:
                self._values[name] = float(value)

    def list_controls(self) -> List[Control]:
        with self._lock:
            return [Control(name, "float", value, self._pending.get(name, value),
                            description="via OpenCV (range unknown)")
                    for name, value in self._values.items()]

    def set_value(self, name: str, value: ControlValue) -> None:
        if name not in self._values:
            raise KeyError(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        with self._lock:
            self._pending[name] = float(value)

    def apply_pending(self) -> List[str]:
        """Apply queued changes (capture thread only); returns names the camera refused."""
        with self._lock:
            pending, self._pending = self._pending, {}
        refused = []
        properties = dict(_OPENCV_PROPERTIES)
        for name, value in pending.items():
            if self._capture.set(properties[name], value):  # type: ignore[attr-defined]
                with self._lock:
                    self._values[name] = value
            else:
                refused.append(name)
        return refused

    def close(self) -> None:
        """Nothing of its own to release: the capture belongs to the source."""


def open_controls(path: str, capture: object,
                  device_factory: Optional[ControlDeviceFactory] = None) -> ControlBackend:
    """``IoctlControls`` on ``path``, or ``OpenCVControls`` on ``capture`` when the node
    cannot be opened or queried for controls. ``OSError`` when the camera is gone."""
    factory = device_factory or V4L2Device
    try:
        device = factory(path)
    except OSError as err:
        if err.errno in _GONE and not os.path.exists(path):
            raise
        return OpenCVControls(capture)
    try:
        return IoctlControls(device)
    except OSError as err:
        device.close()
        if err.errno in _GONE:
            raise
        return OpenCVControls(capture)


def apply_values(backend: ControlBackend, values: Dict[str, ControlValue]) -> List[str]:
    """Set each value; returns one-line problems for those that failed (others still set)."""
    problems = []
    for name, value in values.items():
        try:
            backend.set_value(name, value)
        except KeyError:
            known = ", ".join(sorted(c.name for c in backend.list_controls()))
            problems.append(f"camera has no control {name!r} (it has: {known or 'none'})")
        except ValueError as err:
            problems.append(str(err))
    return problems
