"""The few V4L2 ioctls the service needs, through ``fcntl.ioctl`` and ``ctypes`` structs.

Layouts follow ``linux/videodev2.h`` (stable kernel ABI, same on x86-64 and arm64):
- ``VIDIOC_QUERYCAP``: what a ``/dev/videoN`` node can do (capture or metadata only);
- ``VIDIOC_QUERYCTRL`` (with ``V4L2_CTRL_FLAG_NEXT_CTRL``) and ``VIDIOC_QUERYMENU``: the
  camera's controls, their ranges, defaults and menu entries;
- ``VIDIOC_G_CTRL`` / ``VIDIOC_S_CTRL``: read and change one control;
- ``VIDIOC_ENUM_FMT``: the pixel formats a capture node offers (FOURCC codes).

``V4L2Device`` wraps one open file descriptor. It is opened separately from OpenCV's capture
descriptor (V4L2 allows several opens of one node), so controls can be read and changed from
any thread while the capture thread streams. Every failure is an ``OSError``.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

# -- capabilities (VIDIOC_QUERYCAP) --------------------------------------------------------
CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
CAP_META_CAPTURE = 0x00800000
CAP_STREAMING = 0x04000000
CAP_DEVICE_CAPS = 0x80000000

# -- control types and flags (VIDIOC_QUERYCTRL) ---------------------------------------------
CTRL_TYPE_INTEGER = 1
CTRL_TYPE_BOOLEAN = 2
CTRL_TYPE_MENU = 3
CTRL_TYPE_BUTTON = 4
CTRL_TYPE_INTEGER64 = 5
CTRL_TYPE_CTRL_CLASS = 6
CTRL_TYPE_STRING = 7
CTRL_TYPE_BITMASK = 8
CTRL_TYPE_INTEGER_MENU = 9

CTRL_FLAG_DISABLED = 0x0001
CTRL_FLAG_GRABBED = 0x0002
CTRL_FLAG_READ_ONLY = 0x0004
CTRL_FLAG_INACTIVE = 0x0010
CTRL_FLAG_WRITE_ONLY = 0x0040
CTRL_FLAG_NEXT_CTRL = 0x80000000


class _Capability(ctypes.Structure):
    _fields_ = [
        ("driver", ctypes.c_char * 16),
        ("card", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("version", ctypes.c_uint32),
        ("capabilities", ctypes.c_uint32),
        ("device_caps", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


class _QueryCtrl(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("name", ctypes.c_char * 32),
        ("minimum", ctypes.c_int32),
        ("maximum", ctypes.c_int32),
        ("step", ctypes.c_int32),
        ("default_value", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 2),
    ]


class _QueryMenuUnion(ctypes.Union):
    _pack_ = 1
    _fields_ = [("name", ctypes.c_char * 32), ("value", ctypes.c_int64)]


class _QueryMenu(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in videodev2.h
    _fields_ = [
        ("id", ctypes.c_uint32),
        ("index", ctypes.c_uint32),
        ("item", _QueryMenuUnion),
        ("reserved", ctypes.c_uint32),
    ]


class _FmtDesc(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", ctypes.c_uint32),
        ("mbus_code", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


BUF_TYPE_VIDEO_CAPTURE = 1


class _Control(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("value", ctypes.c_int32)]


def _ioc(direction: int, number: int, struct: type) -> int:
    """The kernel's ``_IOC`` macro for the ``'V'`` ioctl family."""
    return (direction << 30) | (ctypes.sizeof(struct) << 16) | (ord("V") << 8) | number


_READ, _WRITE = 2, 1
VIDIOC_QUERYCAP = _ioc(_READ, 0, _Capability)
VIDIOC_ENUM_FMT = _ioc(_READ | _WRITE, 2, _FmtDesc)
VIDIOC_G_CTRL = _ioc(_READ | _WRITE, 27, _Control)
VIDIOC_S_CTRL = _ioc(_READ | _WRITE, 28, _Control)
VIDIOC_QUERYCTRL = _ioc(_READ | _WRITE, 36, _QueryCtrl)
VIDIOC_QUERYMENU = _ioc(_READ | _WRITE, 37, _QueryMenu)


@dataclass(frozen=True)
class Capabilities:
    """What one device node offers (the node's own ``device_caps`` when the driver has them)."""

    driver: str
    card: str
    bus_info: str
    caps: int

    @property
    def can_capture(self) -> bool:
        return bool(self.caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE))

    @property
    def metadata_only(self) -> bool:
        return bool(self.caps & CAP_META_CAPTURE) and not self.can_capture


@dataclass(frozen=True)
class RawControl:
    """One control as the driver describes it (V4L2 numbers, not yet turned into a
    ``Control``). ``menu`` maps menu index to entry name for menu controls."""

    id: int
    type: int
    name: str
    minimum: int
    maximum: int
    step: int
    default: int
    flags: int
    menu: Tuple[Tuple[int, str], ...] = ()


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


class V4L2Device:
    """An open ``/dev/videoN`` descriptor for queries and controls (no streaming).

    Opening does not start capture and does not conflict with another process or OpenCV
    streaming from the same node. ``close`` is idempotent.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: Optional[int] = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def __enter__(self) -> V4L2Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _ioctl(self, request: int, struct: ctypes.Structure) -> None:
        if self._fd is None:
            raise OSError(errno.EBADF, f"{self.path} is closed")
        fcntl.ioctl(self._fd, request, struct, True)

    def capabilities(self) -> Capabilities:
        cap = _Capability()
        self._ioctl(VIDIOC_QUERYCAP, cap)
        caps = cap.device_caps if cap.capabilities & CAP_DEVICE_CAPS else cap.capabilities
        return Capabilities(_text(cap.driver), _text(cap.card), _text(cap.bus_info), caps)

    def query_controls(self) -> List[RawControl]:
        """Every control of the device, enumerated with ``V4L2_CTRL_FLAG_NEXT_CTRL``."""
        controls: List[RawControl] = []
        query = _QueryCtrl(id=CTRL_FLAG_NEXT_CTRL)
        while True:
            try:
                self._ioctl(VIDIOC_QUERYCTRL, query)
            except OSError as err:
                if err.errno == errno.EINVAL:  # past the last control
                    return controls
                raise
            menu: Tuple[Tuple[int, str], ...] = ()
            if query.type in (CTRL_TYPE_MENU, CTRL_TYPE_INTEGER_MENU):
                menu = self._menu(query)
            controls.append(RawControl(
                id=query.id, type=query.type, name=_text(query.name),
                minimum=query.minimum, maximum=query.maximum, step=query.step,
                default=query.default_value, flags=query.flags, menu=menu,
            ))
            query = _QueryCtrl(id=query.id | CTRL_FLAG_NEXT_CTRL)

    def _menu(self, query: _QueryCtrl) -> Tuple[Tuple[int, str], ...]:
        entries: Dict[int, str] = {}
        for index in range(max(0, query.minimum), query.maximum + 1):
            item = _QueryMenu(id=query.id, index=index)
            try:
                self._ioctl(VIDIOC_QUERYMENU, item)
            except OSError as err:
                if err.errno == errno.EINVAL:  # a hole in the menu: index not supported
                    continue
                raise
            if query.type == CTRL_TYPE_INTEGER_MENU:
                entries[index] = str(item.item.value)
            else:
                entries[index] = _text(item.item.name)
        return tuple(sorted(entries.items()))

    def formats(self) -> List[int]:
        """FOURCC codes of the capture formats the node offers (``VIDIOC_ENUM_FMT``)."""
        codes: List[int] = []
        for index in range(256):
            desc = _FmtDesc(index=index, type=BUF_TYPE_VIDEO_CAPTURE)
            try:
                self._ioctl(VIDIOC_ENUM_FMT, desc)
            except OSError as err:
                if err.errno == errno.EINVAL:  # past the last format
                    break
                raise
            codes.append(int(desc.pixelformat))
        return codes

    def get_control(self, control_id: int) -> int:
        control = _Control(id=control_id)
        self._ioctl(VIDIOC_G_CTRL, control)
        return int(control.value)

    def set_control(self, control_id: int, value: int) -> None:
        self._ioctl(VIDIOC_S_CTRL, _Control(id=control_id, value=value))


def query_capabilities(path: str) -> Optional[Capabilities]:
    """The node's capabilities, or ``None`` when it cannot be opened or queried."""
    try:
        with V4L2Device(path) as device:
            return device.capabilities()
    except OSError:
        return None
