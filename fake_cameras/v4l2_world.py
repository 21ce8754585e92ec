"""A fake V4L2 world for tests and benchmarks on machines without ``/dev/video``.

``FakeV4L2World(root)`` builds a sysfs tree (``root/sys/class/video4linux``) and a dev tree
(``root/dev`` with ``v4l/by-id`` and ``v4l/by-path`` symlinks) the way udev lays them out for
UVC cameras: every camera gets two nodes, a capture node (sysfs ``index`` 0) and a
metadata-only node (``index`` 1). Cameras can be plugged and unplugged; a replugged camera
gets the next free node numbers, as on a real machine.

It hands ``V4L2Source`` its three injectable parts:
- ``tree()``: a ``VideoTree`` over the fake roots, with ``query_caps`` answering like
  ``VIDIOC_QUERYCAP``;
- ``capture_factory``: ``FakeCapture`` objects that behave like OpenCV's V4L2 backend
  (FOURCC/size/fps negotiation, ``CAP_PROP_CONVERT_RGB=0`` returning the raw MJPEG buffer as
  a ``1 x N`` array, ``read`` failing once the camera is unplugged);
- ``control_device_factory``: ``FakeControlDevice`` objects with a UVC-like control table
  and the camera's formats, sizes and rates (``VIDIOC_ENUM_FMT``, ``VIDIOC_ENUM_FRAMESIZES``,
  ``VIDIOC_ENUM_FRAMEINTERVALS``: its modes, all discrete).

16-bit cameras (``thermal_camera()``: ``Y16`` or ``Y16_BE`` next to an 8-bit ``GREY``
preview; ``depth_camera()``: ``Z16``) send a known ramp (``ramp16``) whose last frames are kept
in ``sent_values`` (copy it with ``list()`` before iterating: the capture thread appends).
With ``CAP_PROP_CONVERT_RGB=0`` their buffers come back the way OpenCV's V4L2 backend returns
them: the grey formats as an ``H x W`` ``uint16`` array over the driver's bytes (so a
big-endian buffer reads byte-swapped on this machine), ``Z16`` as ``1 x N`` raw bytes; with
conversion on, as OpenCV's 8-bit BGR (the high byte).

A camera with ``queued_buffers`` keeps that many frames queued in its driver, like a V4L2
driver whose reader lags: every read returns the oldest queued frame and takes a new one, so
after a control change that many frames taken before it still come first
(``CAP_PROP_BUFFERSIZE`` answers the number). With ``shows_brightness`` the top rows of
every colour frame have the value ``128 + brightness`` (the brightness control when the
frame was taken), so a test can read which setting a frame shows.

Every frame carries a buffer timestamp as a V4L2 driver gives it: the camera's ``clock``
(``CLOCK_MONOTONIC`` unless a test injects one) when the frame was taken, in microseconds,
read back through ``CAP_PROP_POS_MSEC`` as OpenCV's V4L2 backend does (0 before the first
frame); ``sent_times`` lists them in order. ``timestamp_kind`` is what ``VIDIOC_QUERYBUF``
says of them ("monotonic", "copy" or "unknown").

``open_handles()`` counts captures and control devices not yet released (leak checks).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Tuple

import cv2
import numpy as np
from camera_service.core.clock_map import MonotonicToWall, kernel_monotonic
from camera_service.sources.base import SourceSettings
from camera_service.sources.pacing import FramePacer
from camera_service.sources.synthetic import render_test_pattern
from camera_service.sources.v4l2.discovery import VideoTree
from camera_service.sources.v4l2.formats import SIXTEEN_BIT_FORMATS, format_name
from camera_service.sources.v4l2.ioctl import (
    CAP_META_CAPTURE,
    CAP_STREAMING,
    CAP_VIDEO_CAPTURE,
    CTRL_TYPE_BOOLEAN,
    CTRL_TYPE_INTEGER,
    CTRL_TYPE_MENU,
    Capabilities,
    FrameInterval,
    FrameSize,
    RawControl,
)
from camera_service.sources.v4l2.source import V4L2Source

# FOURCC -> {(width, height): highest frame rate}. Like most USB cameras: full rate at high
# resolution only in MJPG.
DEFAULT_MODES: Dict[str, Dict[Tuple[int, int], float]] = {
    "YUYV": {(640, 480): 30.0, (1280, 720): 10.0, (1920, 1080): 5.0},
    "MJPG": {(640, 480): 30.0, (1280, 720): 30.0, (1920, 1080): 30.0},
}


def ramp16(width: int, height: int, sequence: int) -> np.ndarray:
    """The known 16-bit test image: a ramp over the full 0..65535 range across each row,
    shifted per row and per frame (both bytes of a value vary, so a swapped byte order
    shows), as native ``uint16``."""
    across = np.linspace(0, 65535, width).astype(np.int64)
    rows = np.arange(height, dtype=np.int64)[:, None] * 61
    return ((across[None, :] + rows + sequence * 257) % 65536).astype(np.uint16)


def code_of(name: str) -> int:
    """The FOURCC code of a mode name (``YUYV``, ``MJPG``, ``Y16``, ``Y16_BE``, ``Z16``)."""
    if name in SIXTEEN_BIT_FORMATS:
        return SIXTEEN_BIT_FORMATS[name].code
    return cv2.VideoWriter_fourcc(*name.ljust(4))


def default_controls() -> List[RawControl]:
    """A UVC-like control table (ids from videodev2.h), with a menu that has holes."""
    return [
        RawControl(0x00980900, CTRL_TYPE_INTEGER, "Brightness", -64, 64, 1, 0, 0),
        RawControl(0x00980901, CTRL_TYPE_INTEGER, "Contrast", 0, 95, 1, 32, 0),
        RawControl(0x0098090C, CTRL_TYPE_BOOLEAN, "White Balance, Automatic", 0, 1, 1, 1, 0),
        RawControl(0x00980918, CTRL_TYPE_MENU, "Power Line Frequency", 0, 2, 1, 1, 0,
                   menu=((0, "Disabled"), (1, "50 Hz"), (2, "60 Hz"))),
        RawControl(0x009A0901, CTRL_TYPE_MENU, "Auto Exposure", 0, 3, 1, 3, 0,
                   menu=((1, "Manual Mode"), (3, "Aperture Priority Mode"))),
        RawControl(0x009A0902, CTRL_TYPE_INTEGER, "Exposure Time, Absolute", 3, 2047, 1, 250,
                   0),
        RawControl(0x00980911, CTRL_TYPE_INTEGER, "Gain", 0, 255, 1, 0, 0x0004),  # read-only
    ]


COMPRESSION_QUALITY_ID = 0x009D0903  # V4L2_CID_JPEG_COMPRESSION_QUALITY
BRIGHTNESS_ID = 0x00980900  # V4L2_CID_BRIGHTNESS
BRIGHTNESS_ROWS = 8  # rows at the top of a frame showing the brightness (shows_brightness)


def compression_quality_control(default: int = 80) -> RawControl:
    """The JPEG compression-quality control some MJPEG cameras (and encoders) have."""
    return RawControl(COMPRESSION_QUALITY_ID, CTRL_TYPE_INTEGER, "Compression Quality", 1,
                      100, 1, default, 0)


@dataclass
class FakeCamera:
    """One USB camera: identity, modes, controls and what it has sent."""

    model: str = "HD_Pro_Webcam_C920"
    vendor: str = "Logitech"
    serial: str = "A1B2C3D4"
    usb_port: str = "1"
    modes: Dict[str, Dict[Tuple[int, int], float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_MODES.items()})
    controls: List[RawControl] = field(default_factory=default_controls)
    values: Dict[int, int] = field(default_factory=dict)
    jpeg_quality: int = 80  # unless it has a compression-quality control, which wins
    paced: bool = False  # sleep to the granted frame rate in read(), like a real camera
    queued_buffers: int = 0  # frames kept queued in the driver (see the module doc)
    shows_brightness: bool = False  # top rows show 128 + brightness (see the module doc)
    meta_name: Optional[str] = None  # sysfs name of the metadata node (vivid's differs)
    plugged: bool = False
    nodes: Tuple[str, str] = ("", "")  # capture node, metadata node (names like "video0")
    sent_jpegs: List[bytes] = field(default_factory=list)
    sent_values: Deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=32))
    clock: Callable[[], float] = kernel_monotonic  # the driver's timestamp clock
    timestamp_kind: str = "monotonic"  # what VIDIOC_QUERYBUF says of the timestamps
    sent_times: List[float] = field(default_factory=list)  # one per frame, as sent_jpegs

    def __post_init__(self) -> None:
        for control in self.controls:
            self.values.setdefault(control.id, control.default)

    @property
    def card(self) -> str:
        return f"{self.vendor} {self.model.replace('_', ' ')}"


def thermal_camera(big_endian: bool = False, **fields) -> FakeCamera:
    """A FLIR-Boson-like thermal camera: 16-bit ``Y16`` (``Y16_BE`` with ``big_endian``)
    next to an 8-bit ``GREY`` preview, 640x512 at up to 30 fps."""
    wide = "Y16_BE" if big_endian else "Y16"
    defaults = dict(model="Boson_640", vendor="FLIR", serial="T16" + ("BE" if big_endian
                                                                        else "LE"),
                    # the 8-bit preview is the node's default format, as on a Boson
                    modes={"GREY": {(640, 512): 30.0}, wide: {(640, 512): 30.0}}, controls=[])
    return FakeCamera(**{**defaults, **fields})


def depth_camera(**fields) -> FakeCamera:
    """A RealSense-like depth node: ``Z16`` only, 640x480 or 848x480 at up to 30 fps."""
    defaults = dict(model="RealSense_Depth", vendor="Intel", serial="Z16D",
                    modes={"Z16": {(640, 480): 30.0, (848, 480): 30.0}}, controls=[])
    return FakeCamera(**{**defaults, **fields})


class FakeV4L2World:
    """Fake sysfs + dev trees under ``root`` and the cameras plugged into them."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.sys_root = os.path.join(root, "sys")
        self.dev_root = os.path.join(root, "dev")
        self._class_dir = os.path.join(self.sys_root, "class", "video4linux")
        os.makedirs(self._class_dir, exist_ok=True)
        os.makedirs(os.path.join(self.dev_root, "v4l", "by-id"), exist_ok=True)
        os.makedirs(os.path.join(self.dev_root, "v4l", "by-path"), exist_ok=True)
        self._lock = threading.Lock()
        self._cameras: Dict[str, FakeCamera] = {}  # node name -> camera
        self._handles: Dict[int, str] = {}
        self._handle_ids = itertools.count(1)

    # -- plugging -------------------------------------------------------------------------
    def plug(self, camera: FakeCamera) -> FakeCamera:
        """Create the camera's two nodes with the next free numbers, like udev does."""
        with self._lock:
            used = {int(name[5:]) for name in os.listdir(self._class_dir)}
            free = (n for n in itertools.count() if n not in used)
            capture, meta = f"video{next(free)}", f"video{next(free)}"
            # Both nodes hang off the camera's USB interface, as in sysfs.
            hardware = os.path.join(self.sys_root, "devices", "usb1", f"1-{camera.usb_port}",
                                    f"1-{camera.usb_port}:1.0")
            os.makedirs(hardware, exist_ok=True)
            for index, node in enumerate((capture, meta)):
                folder = os.path.join(self._class_dir, node)
                os.makedirs(folder)
                name = camera.meta_name if index and camera.meta_name else camera.card
                self._write(folder, "name", name)
                self._write(folder, "index", str(index))
                os.symlink(os.path.relpath(hardware, folder), os.path.join(folder, "device"))
                with open(os.path.join(self.dev_root, node), "w"):
                    pass
                suffix = f"video-index{index}"
                self._link(node, "v4l/by-id",
                           f"usb-{camera.vendor}_{camera.model}_{camera.serial}-{suffix}")
                self._link(node, "v4l/by-path",
                           f"pci-0000:00:14.0-usb-0:{camera.usb_port}:1.0-{suffix}")
                self._cameras[node] = camera
            camera.nodes = (capture, meta)
            camera.plugged = True
        return camera

    def unplug(self, camera: FakeCamera) -> None:
        """Remove the nodes and links; open captures fail their next read."""
        with self._lock:
            camera.plugged = False
            for node in camera.nodes:
                shutil.rmtree(os.path.join(self._class_dir, node), ignore_errors=True)
                self._remove(os.path.join(self.dev_root, node))
                self._cameras.pop(node, None)
            for sub in ("v4l/by-id", "v4l/by-path"):
                folder = os.path.join(self.dev_root, sub)
                for name in os.listdir(folder):
                    link = os.path.join(folder, name)
                    if not os.path.exists(link):
                        self._remove(link)

    def add_udev_symlink(self, camera: FakeCamera, name: str) -> str:
        """A ``SYMLINK+="name"`` udev rule: ``/dev/<name>`` -> the capture node (``name``
        may have folders, e.g. ``spot-cameras/by-serial/<serial>``)."""
        link = os.path.join(self.dev_root, name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        self._remove(link)
        node = os.path.join(self.dev_root, camera.nodes[0])
        os.symlink(os.path.relpath(node, os.path.dirname(link)), link)
        return link

    def _link(self, node: str, sub: str, name: str) -> None:
        link = os.path.join(self.dev_root, sub, name)
        self._remove(link)
        os.symlink(os.path.join("..", "..", node), link)

    @staticmethod
    def _write(folder: str, name: str, text: str) -> None:
        with open(os.path.join(folder, name), "w") as handle:
            handle.write(text + "\n")

    @staticmethod
    def _remove(path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)

    # -- what V4L2Source gets injected ----------------------------------------------------
    def camera_at(self, path: str) -> Optional[FakeCamera]:
        with self._lock:
            return self._cameras.get(os.path.basename(os.path.realpath(path)))

    def query_caps(self, path: str) -> Optional[Capabilities]:
        camera = self.camera_at(path)
        if camera is None:
            return None
        is_capture = os.path.basename(os.path.realpath(path)) == camera.nodes[0]
        caps = (CAP_VIDEO_CAPTURE if is_capture else CAP_META_CAPTURE) | CAP_STREAMING
        return Capabilities("uvcvideo", camera.card, f"usb-0000:00:14.0-{camera.usb_port}",
                            caps)

    def tree(self) -> VideoTree:
        return VideoTree(self.sys_root, self.dev_root, query_caps=self.query_caps)

    def capture_factory(self, path: str) -> FakeCapture:
        return FakeCapture(self, path)

    def control_device_factory(self, path: str) -> FakeControlDevice:
        return FakeControlDevice(self, path)

    def source(self, camera: FakeCamera, name: str = "cam", fps: Optional[float] = None,
               clock: Optional[MonotonicToWall] = None, **options) -> V4L2Source:
        """A ``V4L2Source`` named ``name`` on ``camera``'s capture node, with this world's
        parts injected (and ``clock``, its monotonic-to-wall map, when given); ``options``
        are the source's config keys (``format``, ``range``...)."""
        settings = SourceSettings(name, fps=fps,
                                  options={"device": f"/dev/{camera.nodes[0]}", **options})
        return V4L2Source(settings, capture_factory=self.capture_factory, tree=self.tree(),
                          control_device_factory=self.control_device_factory, clock=clock)

    def _acquire(self, path: str) -> int:
        with self._lock:
            handle = next(self._handle_ids)
            self._handles[handle] = path
            return handle

    def _release(self, handle: int) -> None:
        with self._lock:
            self._handles.pop(handle, None)

    def open_handles(self) -> List[str]:
        """Paths of captures and control devices opened and not released."""
        with self._lock:
            return sorted(self._handles.values())


# OpenCV properties the fake capture maps onto controls, as OpenCV's V4L2 backend does.
_PROPERTY_CONTROLS = {cv2.CAP_PROP_BRIGHTNESS: BRIGHTNESS_ID,
                      cv2.CAP_PROP_CONTRAST: 0x00980901}


def _as_opencv_int(value: float) -> int:
    """What OpenCV's V4L2 backend makes of a property value: ``cvRound`` to a signed
    ``int`` (a value past ``INT_MAX`` becomes ``INT_MIN`` on x86), then the FOURCC's
    ``__u32``."""
    number = round(value)
    if not -(1 << 31) <= number < (1 << 31):
        number = -(1 << 31)
    return number & 0xFFFFFFFF


def _nearest(options: List[Tuple[int, int]], width: int, height: int) -> Tuple[int, int]:
    return min(options, key=lambda size: abs(size[0] - width) + abs(size[1] - height))


class FakeCapture:
    """Behaves like ``cv2.VideoCapture(path, cv2.CAP_V4L2)`` on a fake camera."""

    def __init__(self, world: FakeV4L2World, path: str) -> None:
        self._world = world
        camera = world.camera_at(path)
        is_capture = camera is not None and os.path.basename(
            os.path.realpath(path)) == camera.nodes[0]
        self._camera = camera if is_capture else None
        self._handle = world._acquire(path) if self._camera else None
        self.fourcc = next(iter(camera.modes)) if self._camera else "YUYV"
        self.size = _nearest(list(camera.modes[self.fourcc]), 640, 480) if self._camera \
            else (640, 480)
        self.fps = 30.0
        self.convert_rgb = True
        self._pending: Dict[int, int] = {}
        self._sequence = 0
        self._stamp_usec = 0  # the last frame's buffer timestamp, in microseconds
        # the driver's queued frames: (buffer timestamp in us, what read returns)
        self._queue: Deque[Tuple[int, Tuple[bool, Optional[np.ndarray]]]] = deque()
        self._pacer: Optional[FramePacer] = None
        self.set_calls: List[Tuple[int, float]] = []

    def isOpened(self) -> bool:
        return self._handle is not None

    def _modes(self) -> Dict[Tuple[int, int], float]:
        assert self._camera is not None
        return self._camera.modes[self.fourcc]

    def set(self, prop: int, value: float) -> bool:
        self.set_calls.append((prop, value))
        if self._camera is None:
            return False
        if prop == cv2.CAP_PROP_FOURCC:
            text = format_name(_as_opencv_int(value))
            if text not in self._camera.modes:
                return False
            self.fourcc = text
            self.size = _nearest(list(self._modes()), *self.size)
        elif prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT):
            # OpenCV changes the size once both width and height have been set.
            self._pending[prop] = int(value)
            if len(self._pending) == 2:
                self.size = _nearest(list(self._modes()),
                                     self._pending.pop(cv2.CAP_PROP_FRAME_WIDTH),
                                     self._pending.pop(cv2.CAP_PROP_FRAME_HEIGHT))
        elif prop == cv2.CAP_PROP_FPS:
            self.fps = float(value)
        elif prop == cv2.CAP_PROP_CONVERT_RGB:
            self.convert_rgb = bool(value)
        elif prop in _PROPERTY_CONTROLS:
            self._camera.values[_PROPERTY_CONTROLS[prop]] = int(value)
        else:
            return False
        self.fps = min(self.fps, self._modes()[self.size])
        return True

    def get(self, prop: int) -> float:
        if self._camera is None:
            return 0.0
        if prop == cv2.CAP_PROP_FOURCC:
            return float(code_of(self.fourcc))
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self.size[0])
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self.size[1])
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        if prop in _PROPERTY_CONTROLS:
            return float(self._camera.values[_PROPERTY_CONTROLS[prop]])
        if prop == cv2.CAP_PROP_POS_MSEC:  # as cap_v4l.cpp: tv_sec * 1000 + tv_usec / 1000
            seconds, usec = divmod(self._stamp_usec, 1_000_000)
            return 1000.0 * seconds + usec / 1000.0
        if prop == cv2.CAP_PROP_BUFFERSIZE:
            return float(self._camera.queued_buffers)
        return -1.0

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        camera = self._camera
        if camera is None or not camera.plugged or self._handle is None:
            return False, None
        if camera.paced:
            if self._pacer is None or self._pacer.fps != self.fps:
                self._pacer = FramePacer(self.fps)
            self._pacer.wait()
        while len(self._queue) <= camera.queued_buffers:
            self._queue.append(self._take(camera))
        self._stamp_usec, answer = self._queue.popleft()
        return answer

    def _take(self, camera: FakeCamera) -> Tuple[int, Tuple[bool, Optional[np.ndarray]]]:
        """One frame taken now, with the camera's settings now: its buffer timestamp (us)
        and what ``read`` returns for it."""
        taken = camera.clock()
        camera.sent_times.append(taken)
        return int(taken * 1_000_000), self._picture(camera)

    def _picture(self, camera: FakeCamera) -> Tuple[bool, Optional[np.ndarray]]:
        self._sequence += 1
        if self.fourcc in SIXTEEN_BIT_FORMATS:
            return True, self._sixteen_bit_buffer(camera)
        image = render_test_pattern(self.size[0], self.size[1], self._sequence, time.time())
        if camera.shows_brightness:
            image[:BRIGHTNESS_ROWS] = 128 + camera.values[BRIGHTNESS_ID]
        if self.fourcc == "GREY":
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            return True, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR) if self.convert_rgb else grey
        if self.fourcc == "MJPG":
            quality = camera.values.get(COMPRESSION_QUALITY_ID, camera.jpeg_quality)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            camera.sent_jpegs.append(encoded.tobytes())
            if not self.convert_rgb:
                return True, encoded.reshape(1, -1)
            image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        elif not self.convert_rgb:
            yuyv = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_YUYV) if hasattr(
                cv2, "COLOR_BGR2YUV_YUYV") else image[:, :, :2]
            return True, np.ascontiguousarray(yuyv).reshape(1, -1)
        return True, image

    def _sixteen_bit_buffer(self, camera: FakeCamera) -> np.ndarray:
        """One ramp frame as OpenCV's V4L2 backend hands it over (see the module doc)."""
        fmt = SIXTEEN_BIT_FORMATS[self.fourcc]
        values = ramp16(self.size[0], self.size[1], self._sequence)
        if fmt.bits < 16:
            values >>= 16 - fmt.bits  # unpacked: the low bits of each 16-bit word
        camera.sent_values.append(values)
        driver_bytes = values.astype(fmt.dtype).tobytes()
        if self.convert_rgb:  # OpenCV keeps the high byte (Y16 family)
            high = (values >> max(0, fmt.bits - 8)).astype(np.uint8)
            return cv2.cvtColor(high, cv2.COLOR_GRAY2BGR)
        if fmt.name == "Z16":  # not a format OpenCV knows: the raw bytes
            return np.frombuffer(driver_bytes, np.uint8).reshape(1, -1)
        return np.frombuffer(driver_bytes, np.uint16).reshape(self.size[1], self.size[0])

    def release(self) -> None:
        if self._handle is not None:
            self._world._release(self._handle)
            self._handle = None


class FakeControlDevice:
    """Behaves like ``V4L2Device`` (ioctls) on a fake camera."""

    def __init__(self, world: FakeV4L2World, path: str) -> None:
        camera = world.camera_at(path)
        if camera is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self._world = world
        self._camera = camera
        self._handle: Optional[int] = world._acquire(path)

    def _check(self) -> FakeCamera:
        if self._handle is None:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if not self._camera.plugged:
            raise OSError(errno.ENODEV, "No such device")
        return self._camera

    def query_controls(self) -> List[RawControl]:
        return list(self._check().controls)

    def formats(self) -> List[int]:
        return [code_of(name) for name in self._check().modes]

    def timestamp_kind(self) -> str:
        return self._check().timestamp_kind

    def _modes_of(self, pixel_format: int) -> Dict[Tuple[int, int], float]:
        modes = self._check().modes
        return next((sizes for name, sizes in modes.items() if code_of(name) == pixel_format),
                    {})

    def frame_sizes(self, pixel_format: int) -> List[FrameSize]:
        """The camera's modes of that format, as discrete sizes."""
        return [FrameSize("discrete", w, h, w, h) for w, h in self._modes_of(pixel_format)]

    def frame_intervals(self, pixel_format: int, width: int,
                        height: int) -> List[FrameInterval]:
        """The one rate of that mode, as a discrete interval (none for an unknown size)."""
        fps = self._modes_of(pixel_format).get((width, height))
        return [] if fps is None else [FrameInterval("discrete", 1.0 / fps, 1.0 / fps)]

    def get_control(self, control_id: int) -> int:
        return self._check().values[control_id]

    def set_control(self, control_id: int, value: int) -> None:
        camera = self._check()
        raw = next((c for c in camera.controls if c.id == control_id), None)
        if raw is None:
            raise OSError(errno.EINVAL, "Invalid argument")
        if not raw.minimum <= value <= raw.maximum:
            raise OSError(errno.ERANGE, "Numerical result out of range")
        camera.values[control_id] = value

    def close(self) -> None:
        if self._handle is not None:
            self._world._release(self._handle)
            self._handle = None
