"""The few V4L2 ioctls the service needs, through ``fcntl.ioctl`` and ``ctypes`` structs.

Layouts follow ``linux/videodev2.h`` (stable kernel ABI, same on x86-64 and arm64):
- ``VIDIOC_QUERYCAP``: what a ``/dev/videoN`` node can do (capture or metadata only);
- ``VIDIOC_QUERYCTRL`` (with ``V4L2_CTRL_FLAG_NEXT_CTRL``) and ``VIDIOC_QUERYMENU``: the
  camera's controls, their ranges, defaults and menu entries;
- ``VIDIOC_G_CTRL`` / ``VIDIOC_S_CTRL``: read and change one control;
- ``VIDIOC_ENUM_FMT``: the pixel formats a capture node offers (FOURCC codes);
- ``VIDIOC_ENUM_FRAMESIZES`` / ``VIDIOC_ENUM_FRAMEINTERVALS``: the sizes of a format and the
  frame intervals of a size, discrete lists or one stepwise (or continuous) range;
- ``VIDIOC_QUERYBUF``: the clock of the driver's buffer timestamps (monotonic, copied from
  the writer, or unknown), once buffers have been requested (by OpenCV's descriptor).

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
CTRL_TYPE_INTEGER_MENU = 9

CTRL_FLAG_DISABLED = 0x0001
CTRL_FLAG_READ_ONLY = 0x0004
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

# -- frame sizes and intervals (VIDIOC_ENUM_FRAMESIZES / VIDIOC_ENUM_FRAMEINTERVALS) ---------
FRM_TYPE_DISCRETE = 1
FRM_TYPE_CONTINUOUS = 2
FRM_TYPE_STEPWISE = 3
_FRM_KINDS = {FRM_TYPE_DISCRETE: "discrete", FRM_TYPE_CONTINUOUS: "continuous",
              FRM_TYPE_STEPWISE: "stepwise"}


class _FrmSizeDiscrete(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32)]


class _FrmSizeStepwise(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in (
        "min_width", "max_width", "step_width", "min_height", "max_height", "step_height")]


class _FrmSizeUnion(ctypes.Union):
    _fields_ = [("discrete", _FrmSizeDiscrete), ("stepwise", _FrmSizeStepwise)]


class _FrmSizeEnum(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("size", _FrmSizeUnion),
        ("reserved", ctypes.c_uint32 * 2),
    ]


class _Fract(ctypes.Structure):
    _fields_ = [("numerator", ctypes.c_uint32), ("denominator", ctypes.c_uint32)]


class _FrmIvalStepwise(ctypes.Structure):
    _fields_ = [("min", _Fract), ("max", _Fract), ("step", _Fract)]


class _FrmIvalUnion(ctypes.Union):
    _fields_ = [("discrete", _Fract), ("stepwise", _FrmIvalStepwise)]


class _FrmIvalEnum(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("interval", _FrmIvalUnion),
        ("reserved", ctypes.c_uint32 * 2),
    ]


class _Control(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("value", ctypes.c_int32)]


# -- buffers (VIDIOC_QUERYBUF): only the timestamp flags are read -------------------------
BUF_FLAG_TIMESTAMP_MASK = 0x0000E000
BUF_FLAG_TIMESTAMP_UNKNOWN = 0x00000000
BUF_FLAG_TIMESTAMP_MONOTONIC = 0x00002000
BUF_FLAG_TIMESTAMP_COPY = 0x00004000
TIMESTAMP_KINDS = {BUF_FLAG_TIMESTAMP_UNKNOWN: "unknown", BUF_FLAG_TIMESTAMP_MONOTONIC:
                   "monotonic", BUF_FLAG_TIMESTAMP_COPY: "copy"}
MEMORY_MMAP = 1


class _TimeVal(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _TimeCode(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("frames", ctypes.c_uint8), ("seconds", ctypes.c_uint8),
                ("minutes", ctypes.c_uint8), ("hours", ctypes.c_uint8),
                ("userbits", ctypes.c_uint8 * 4)]


class _BufferLocation(ctypes.Union):
    _fields_ = [("offset", ctypes.c_uint32), ("userptr", ctypes.c_ulong),
                ("planes", ctypes.c_void_p), ("fd", ctypes.c_int32)]


class _Buffer(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("bytesused", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("field", ctypes.c_uint32),
        ("timestamp", _TimeVal),
        ("timecode", _TimeCode),
        ("sequence", ctypes.c_uint32),
        ("memory", ctypes.c_uint32),
        ("m", _BufferLocation),
        ("length", ctypes.c_uint32),
        ("reserved2", ctypes.c_uint32),
        ("request_fd", ctypes.c_int32),
    ]


def _ioc(direction: int, number: int, struct: type) -> int:
    """The kernel's ``_IOC`` macro for the ``'V'`` ioctl family."""
    return (direction << 30) | (ctypes.sizeof(struct) << 16) | (ord("V") << 8) | number


_READ, _WRITE = 2, 1
VIDIOC_QUERYCAP = _ioc(_READ, 0, _Capability)
VIDIOC_ENUM_FMT = _ioc(_READ | _WRITE, 2, _FmtDesc)
VIDIOC_QUERYBUF = _ioc(_READ | _WRITE, 9, _Buffer)
VIDIOC_G_CTRL = _ioc(_READ | _WRITE, 27, _Control)
VIDIOC_S_CTRL = _ioc(_READ | _WRITE, 28, _Control)
VIDIOC_QUERYCTRL = _ioc(_READ | _WRITE, 36, _QueryCtrl)
VIDIOC_QUERYMENU = _ioc(_READ | _WRITE, 37, _QueryMenu)
VIDIOC_ENUM_FRAMESIZES = _ioc(_READ | _WRITE, 74, _FrmSizeEnum)
VIDIOC_ENUM_FRAMEINTERVALS = _ioc(_READ | _WRITE, 75, _FrmIvalEnum)


@dataclass(frozen=True)
class FrameSize:
    """One ``VIDIOC_ENUM_FRAMESIZES`` answer. ``kind`` "discrete": exactly ``min_width`` x
    ``min_height`` (the max fields equal them, steps 0); "stepwise" / "continuous": any
    width from ``min_width`` to ``max_width`` by ``step_width`` (1 when continuous), heights
    alike."""

    kind: str
    min_width: int
    min_height: int
    max_width: int
    max_height: int
    step_width: int = 0
    step_height: int = 0


@dataclass(frozen=True)
class FrameInterval:
    """One ``VIDIOC_ENUM_FRAMEINTERVALS`` answer, in seconds per frame. ``kind``
    "discrete": exactly ``minimum`` (= ``maximum``, step 0); "stepwise" / "continuous": any
    interval from ``minimum`` to ``maximum`` by ``step``."""

    kind: str
    minimum: float
    maximum: float
    step: float = 0.0

    @property
    def max_fps(self) -> float:
        return 1.0 / self.minimum if self.minimum > 0 else 0.0

    @property
    def min_fps(self) -> float:
        return 1.0 / self.maximum if self.maximum > 0 else 0.0


def _seconds(fract: _Fract) -> float:
    return fract.numerator / fract.denominator if fract.denominator else 0.0


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

    def __exit__(self, *_exc: object) -> None:
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

    def _enumerate(self, request: int, make) -> List:
        """Structs answered for index 0, 1, ... until ``EINVAL``; a stepwise or continuous
        answer is the only one (the kernel answers index 0 alone)."""
        answers = []
        for index in range(256):
            struct = make(index)
            try:
                self._ioctl(request, struct)
            except OSError as err:
                if err.errno == errno.EINVAL:  # past the last one
                    break
                raise
            answers.append(struct)
            if struct.type != FRM_TYPE_DISCRETE:
                break
        return answers

    def frame_sizes(self, pixel_format: int) -> List[FrameSize]:
        """The sizes the node offers in ``pixel_format`` (``VIDIOC_ENUM_FRAMESIZES``)."""
        sizes = []
        for answer in self._enumerate(VIDIOC_ENUM_FRAMESIZES, lambda index: _FrmSizeEnum(
                index=index, pixel_format=pixel_format)):
            kind = _FRM_KINDS.get(answer.type, "discrete")
            if answer.type == FRM_TYPE_DISCRETE:
                one = answer.size.discrete
                sizes.append(FrameSize(kind, one.width, one.height, one.width, one.height))
            else:
                step = answer.size.stepwise
                continuous = answer.type == FRM_TYPE_CONTINUOUS
                sizes.append(FrameSize(kind, step.min_width, step.min_height, step.max_width,
                                       step.max_height, 1 if continuous else step.step_width,
                                       1 if continuous else step.step_height))
        return sizes

    def frame_intervals(self, pixel_format: int, width: int,
                        height: int) -> List[FrameInterval]:
        """The frame intervals of one size of ``pixel_format``
        (``VIDIOC_ENUM_FRAMEINTERVALS``)."""
        intervals = []
        for answer in self._enumerate(VIDIOC_ENUM_FRAMEINTERVALS, lambda index: _FrmIvalEnum(
                index=index, pixel_format=pixel_format, width=width, height=height)):
            kind = _FRM_KINDS.get(answer.type, "discrete")
            if answer.type == FRM_TYPE_DISCRETE:
                seconds = _seconds(answer.interval.discrete)
                intervals.append(FrameInterval(kind, seconds, seconds))
            else:
                step = answer.interval.stepwise
                intervals.append(FrameInterval(kind, _seconds(step.min), _seconds(step.max),
                                               _seconds(step.step)))
        return intervals

    def timestamp_kind(self) -> str:
        """The clock of the node's capture buffer timestamps, from buffer 0's flags
        (``VIDIOC_QUERYBUF``, which any descriptor may ask): "monotonic" (the driver's
        ``CLOCK_MONOTONIC`` when the frame was taken), "copy" (copied from whoever wrote the
        frame) or "unknown". ``OSError`` when no buffers are allocated yet."""
        buffer = _Buffer(index=0, type=BUF_TYPE_VIDEO_CAPTURE, memory=MEMORY_MMAP)
        self._ioctl(VIDIOC_QUERYBUF, buffer)
        return TIMESTAMP_KINDS.get(buffer.flags & BUF_FLAG_TIMESTAMP_MASK, "unknown")

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
