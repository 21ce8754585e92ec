"""USB (UVC) and other V4L2 cameras through OpenCV's V4L2 backend.

Options (``camera_service.schema.sources.V4l2Options``; besides the common keys):
- ``device``: ``/dev/video0``, an index (``0``), a stable name (``/dev/v4l/by-id/...``,
  ``/dev/v4l/by-path/...``, a udev symlink, or the bare by-id/by-path file name), ``auto``
  (default: the first capture-capable camera present) or ``all`` (expanded by
  ``discovery.expand_sources`` into one source per camera before sources are built).
  The path is resolved again at every open, so a camera that comes back under another
  ``/dev/videoN`` is found through its stable name.
- ``format`` (alias ``codec``, as the SDK example's ``--codec``): a FOURCC such as ``MJPG``
  or ``YUYV`` (formats OpenCV cannot convert, like H264, are not supported); ``auto``
  (default) asks for MJPG and takes what the camera grants. Most cameras reach full rate at
  high resolutions only in MJPG. The 16-bit formats ``Y16``, ``Y16_BE``, ``Y12``, ``Y10``
  (thermal) and ``Z16`` (depth) are opened as 16-bit values (``v4l2_formats``): asked for by
  name, or by ``auto`` when the device offers one and no colour format. A camera that does
  not grant the 16-bit format asked for is not opened (never served as its 8-bit preview).
- 16-bit sources only (``pipeline.sixteen_bit``): ``image_type`` (``visual`` or ``depth``;
  default from the format), ``depth_scale`` (depth: raw value of one metre, default 1000),
  ``range`` (``auto`` or ``{min: .., max: ..}`` raw values) and ``colormap`` (OpenCV colour
  map name or ``none``) for the 8-bit view served as JPEG.
- ``native_jpeg`` (bool, default true): with MJPG, hand the camera's JPEG bytes to the
  pipeline untouched (OpenCV's ``CAP_PROP_CONVERT_RGB=0`` returns the raw buffer); false
  decodes every frame to pixels.
- ``controls``: mapping of control name to initial value (``brightness: 10``,
  ``power_line_frequency: 50 Hz``); applied at every open, after replugs too.
- ``jpeg_quality`` (common key): for a camera delivering MJPG that has a JPEG
  compression-quality control (``compression_quality``), set on the camera at every open
  (unless ``controls`` sets it): the camera then encodes at that quality. The quality a camera
  delivers is estimated from its JPEG tables and logged.

Frame times: each frame's ``capture_time`` is the driver's buffer timestamp (when the frame
was taken, before any queueing in the driver or this process; OpenCV's ``CAP_PROP_POS_MSEC``
is that ``struct v4l2_buffer`` timestamp), a ``CLOCK_MONOTONIC`` time mapped to wall-clock
time by ``core.clock_map`` (and to robot time by the servicer). It is used when the driver
says its timestamps are monotonic (``V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC``, asked with
``VIDIOC_QUERYBUF``) or does not say, and the stamp is a plausible recent monotonic time;
otherwise (timestamps copied from a writer, or implausible) the frame is timed when it was
read, and the open logs which clock frames use.

A read waits at most ``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT`` seconds (set here to 2 unless the
environment says otherwise) before it raises ``SourceError``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

import cv2  # OpenCV's V4L2 wait timeout is set in camera_service.core.process_env
import numpy as np

from camera_service.core.clock_map import MonotonicToWall
from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.core.jpeg_quality import QualityEstimator
from camera_service.core.redaction import redact_url
from camera_service.core.sixteen_bit import SixteenBitProfile, profile_from_options
from camera_service.schema.sources import V4l2Options, read_options
from camera_service.sources import register
from camera_service.sources.base import (
    CameraSource,
    Control,
    ControlValue,
    Frame,
    ShotSettings,
    SourceInfo,
    SourceSettings,
)
from camera_service.sources.options import check_positive_settings
from camera_service.sources.v4l2 import shot_settings as v4l2_shot
from camera_service.sources.v4l2.controls import (
    ControlBackend,
    ControlDeviceFactory,
    OpenCVControls,
    apply_values,
    open_controls,
)
from camera_service.sources.v4l2.discovery import ALL, AUTO, DeviceNotFound, VideoTree
from camera_service.sources.v4l2.formats import (
    SixteenBitFormat,
    auto_choice,
    decode_buffer,
    format_name,
    opencv_fourcc_value,
    sixteen_bit_format,
)
from camera_service.sources.v4l2.ioctl import V4L2Device

log = logging.getLogger(__name__)

JPEG_FOURCCS = ("MJPG", "JPEG")
# The driver's name of V4L2_CID_JPEG_COMPRESSION_QUALITY, as a control name.
COMPRESSION_QUALITY = "compression_quality"
PREFERRED_FOURCC = "MJPG"
_SIXTEEN_BIT_OPTIONS = ("image_type", "depth_scale", "range", "colormap")
# Buffers OpenCV's V4L2 backend queues in the driver when it cannot tell (its default).
OPENCV_V4L_BUFFERS = 4
# Consecutive raw buffers OpenCV could not convert before a read gives up. (Camera JPEGs are
# checked by the capture loop's frame hygiene, not here.)
_MAX_BAD_BUFFERS = 30
# A buffer timestamp is taken as the driver's CLOCK_MONOTONIC only when it is this recent
# (seconds before the read) and not later than the read by more than the second bound.
_KERNEL_TIME_MAX_AGE = 10.0
_KERNEL_TIME_MAX_AHEAD = 0.01


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the source uses (tests pass a fake)."""

    def isOpened(self) -> bool: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def read(self) -> Tuple[bool, Optional[np.ndarray]]: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[str], Capture]


def opencv_capture(path: str) -> Capture:
    """A ``cv2.VideoCapture`` on ``path`` with the V4L2 backend."""
    return cv2.VideoCapture(path, cv2.CAP_V4L2)


def fourcc_code(text: str) -> int:
    return cv2.VideoWriter.fourcc(*text)


def fourcc_text(code: float) -> str:
    number = int(code)
    chars = "".join(chr((number >> shift) & 0xFF) for shift in (0, 8, 16, 24))
    return chars.strip("\0 ") or "?"


def _parse_device(device: object) -> str:
    if isinstance(device, bool) or not isinstance(device, (str, int)) or device == "":
        raise ConfigError("device", "must be a path like /dev/v4l/by-id/..., an index, "
                          f"'auto' or 'all', got {device!r}")
    if isinstance(device, int):
        if device < 0:
            raise ConfigError("device", f"index must be >= 0, got {device}")
        return str(device)
    text = device.strip()
    if "://" in text:
        raise ConfigError("device", f"{redact_url(text)} is a URL, not a V4L2 camera: use "
                          "type: url with url: ... for a network camera")
    if text.lower() in (AUTO, ALL):
        return text.lower()
    return text


def _parse_format(options: V4l2Options) -> str:
    given, codec = options.format, options.codec
    if given is not None and codec is not None and given != codec:
        raise ConfigError("codec", "give either 'format' or its alias 'codec', not both")
    value = given if given is not None else codec if codec is not None else AUTO
    wide = sixteen_bit_format(value) if isinstance(value, str) else None
    if wide is not None:
        return wide.name
    if not isinstance(value, str) or not (value.lower() == AUTO or 1 <= len(value) <= 4):
        raise ConfigError("format", f"must be a FOURCC like MJPG or YUYV, a 16-bit format "
                          f"(Y16, Y16_BE, Y12, Y10, Z16), or 'auto', got {value!r}")
    if value.lower() == AUTO:
        return AUTO
    # FOURCCs are case-sensitive (a few have lower-case letters); "mjpg" means MJPG.
    return (value.upper() if value.islower() else value).ljust(4)


def _parse_controls(controls: object) -> Dict[str, ControlValue]:
    controls = controls or {}
    if not isinstance(controls, dict) or not all(isinstance(k, str) for k in controls):
        raise ConfigError("controls", "must be a mapping of control name to value, e.g. "
                          "{brightness: 10}")
    for key, value in controls.items():
        if isinstance(value, (list, dict)) or value is None:
            raise ConfigError(f"controls.{key}", f"must be a number, true/false or a menu "
                              f"entry name, got {value!r}")
    return dict(controls)


def _queued_buffers(capture: Capture) -> int:
    """The buffers OpenCV's V4L2 backend streams with (``CAP_PROP_BUFFERSIZE``); its default
    when the backend cannot tell."""
    size = capture.get(cv2.CAP_PROP_BUFFERSIZE)
    return int(size) if size >= 0 else OPENCV_V4L_BUFFERS


@register("v4l2")
class V4L2Source(CameraSource):
    """One V4L2 camera. ``open``/``read``/``close`` belong to the capture thread;
    ``controls``/``set_control`` are thread-safe and work while streaming (see module doc).

    ``capture_factory``, ``tree``, ``control_device_factory`` and ``clock`` (the
    monotonic-to-wall map frame times go through) are injectable for tests.
    """

    def __init__(
        self,
        settings: SourceSettings,
        capture_factory: CaptureFactory = opencv_capture,
        tree: Optional[VideoTree] = None,
        control_device_factory: Optional[ControlDeviceFactory] = None,
        clock: Optional[MonotonicToWall] = None,
    ) -> None:
        super().__init__(settings)
        options = read_options(V4l2Options, settings.options)
        self.device = _parse_device(options.device)
        if self.device == ALL:
            raise ConfigError("device", "'all' must be expanded before sources are built "
                              "(camera_service.sources.v4l2.discovery.expand_sources)")
        self.format = _parse_format(options)
        self.native_jpeg = options.native_jpeg
        self.initial_controls = _parse_controls(options.controls)
        self.sixteen_bit = sixteen_bit_format(self.format) if self.format != AUTO else None
        self._sixteen_options = options.model_dump(include=set(_SIXTEEN_BIT_OPTIONS),
                                                   exclude_unset=True)
        if self._sixteen_options and self.format != AUTO and self.sixteen_bit is None:
            raise ConfigError(sorted(self._sixteen_options)[0], "applies to 16-bit formats "
                              "only (format: Y16, Y16_BE, Y12, Y10, Z16 or auto)")
        fmt = self.sixteen_bit
        # Checked now so a bad value stops the start; applied when the camera is opened.
        profile_from_options(self._sixteen_options, fmt.image_type if fmt else "visual",
                             fmt.bits if fmt else 16)
        check_positive_settings(settings)
        self._capture_factory = capture_factory
        self._tree = tree or VideoTree()
        self._control_device_factory = control_device_factory
        self._clock = clock or MonotonicToWall()
        self._timestamps = "unknown"  # the driver's timestamp clock (ioctl.TIMESTAMP_KINDS)
        self._kernel_time_failed = False  # an implausible stamp was logged since the open
        self._capture: Optional[Capture] = None
        self._node = ""
        self._native = False
        self._granted16: Optional[SixteenBitFormat] = None  # the 16-bit format being read
        self._size = (0, 0)
        self._queued = 0  # buffers the driver keeps queued (CAP_PROP_BUFFERSIZE)
        self._sequence = 0
        self._quality = QualityEstimator(settings.name)
        # Guards the control backend and the values set at run time (re-applied on reopen).
        self._controls_lock = threading.Lock()
        self._backend: Optional[ControlBackend] = None
        self._overrides: Dict[str, ControlValue] = {}
        self._last_controls: List[Control] = []

    def describe(self) -> str:
        where = self.device if self.device != AUTO else "first camera found"
        return f"v4l2 {where}" + (f" ({self._node})" if self._node else "")

    # -- open -----------------------------------------------------------------------------
    def open(self) -> SourceInfo:
        self.close()
        try:
            node = self._tree.resolve(self.device)
        except DeviceNotFound as err:
            raise SourceUnavailable(str(err)) from None
        capture = self._capture_factory(node)
        try:
            if not capture.isOpened():
                raise SourceUnavailable(self._open_failure(node))
            info = self._negotiate(capture, node)
        except BaseException:
            capture.release()
            raise
        self._capture, self._node = capture, node
        self._queued = _queued_buffers(capture)
        try:
            self._setup_controls(capture, node)
        except OSError as err:
            self.close()
            raise SourceUnavailable(f"{node} ({self.device}) went away while opening: "
                                    f"{err.strerror or err}") from None
        self._timestamps = self._ask_device(node, lambda device: device.timestamp_kind(),
                                            "unknown")
        self._kernel_time_failed = False
        log.info("%s: %s; frame times: %s", self.name, info.detail,
                 "the time of reading (driver's timestamps are copied from the writer)"
                 if self._timestamps == "copy" else
                 f"the driver's buffer timestamps ({self._timestamps} clock)")
        self._quality.opened(info.detail)
        return info

    def _open_failure(self, node: str) -> str:
        if not os.access(node, os.R_OK | os.W_OK):
            return (f"no permission to open {node} ({self.device}): add the user to the "
                    "'video' group or map the device into the container")
        return (f"cannot open {node} ({self.device}): another program may be using it, "
                "or it is not a video capture node")

    def _negotiate(self, capture: Capture, node: str) -> SourceInfo:
        """Ask for format, size and rate (in the order OpenCV needs); report what was granted."""
        self._granted16 = None
        sixteen = self.sixteen_bit
        if self.format == AUTO:
            sixteen = auto_choice(self._offered_formats(node))
        if sixteen is not None:
            return self._negotiate_sixteen_bit(capture, node, sixteen)
        wanted = PREFERRED_FOURCC if self.format == AUTO else self.format.strip()
        capture.set(cv2.CAP_PROP_FOURCC, fourcc_code(wanted.ljust(4)))
        granted = fourcc_text(self._set_size_and_rate(capture))
        width, height, fps = self._granted_geometry(capture, node)
        if self.format != AUTO and granted != wanted:
            log.warning("%s: asked for %s, camera granted %s", self.name, wanted, granted)
        self._warn_size(width, height)
        self._native = self.native_jpeg and granted in JPEG_FOURCCS
        if self._sixteen_options:
            log.warning("%s: %s granted, not a 16-bit format: %s ignored", self.name, granted,
                        ", ".join(sorted(self._sixteen_options)))
        capture.set(cv2.CAP_PROP_CONVERT_RGB, 0 if self._native else 1)
        self._size = (width, height)
        mode = "native JPEG" if self._native else "decoded to pixels"
        return SourceInfo(
            width=width, height=height, fps=fps if fps > 0 else 0.0, native_jpeg=self._native,
            channels=3, detail=f"{granted} {width}x{height} @{fps:g} fps on {node} "
                               f"({self.device}), {mode}",
        )

    def _set_size_and_rate(self, capture: Capture) -> float:
        """Ask for the configured size and rate (after the format); the granted FOURCC."""
        if self.settings.width and self.settings.height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.settings.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.settings.height)
        if self.settings.fps:
            capture.set(cv2.CAP_PROP_FPS, self.settings.fps)
        return capture.get(cv2.CAP_PROP_FOURCC)

    def _granted_geometry(self, capture: Capture, node: str) -> Tuple[int, int, float]:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if width <= 0 or height <= 0:
            raise SourceUnavailable(f"{node} ({self.device}) reports no frame size; "
                                    "is it a video capture node?")
        return width, height, fps

    def _warn_size(self, width: int, height: int) -> None:
        wanted = (self.settings.width, self.settings.height)
        if wanted[0] and wanted != (width, height):
            log.warning("%s: asked for %dx%d, camera granted %dx%d", self.name, wanted[0],
                        wanted[1], width, height)

    def _offered_formats(self, node: str) -> List[int]:
        """The node's capture formats (``VIDIOC_ENUM_FMT``); empty when it cannot tell."""
        return self._ask_device(node, lambda device: list(device.formats()), [])

    def _ask_device(self, node: str, question: Callable, otherwise):
        """``question(device)`` on a descriptor of its own on ``node``; ``otherwise`` when
        the node cannot be opened or does not answer."""
        factory = self._control_device_factory or V4L2Device
        try:
            device = factory(node)
        except OSError:
            return otherwise
        try:
            return question(device)
        except (OSError, AttributeError):
            return otherwise
        finally:
            device.close()

    def _negotiate_sixteen_bit(self, capture: Capture, node: str,
                               fmt: SixteenBitFormat) -> SourceInfo:
        """Open ``fmt`` as raw 16-bit buffers, or refuse: never fall back to 8 bits."""
        capture.set(cv2.CAP_PROP_CONVERT_RGB, 0)  # before the format: OpenCV keeps the bytes
        capture.set(cv2.CAP_PROP_FOURCC, opencv_fourcc_value(fmt.code))
        granted = int(self._set_size_and_rate(capture)) & 0xFFFFFFFF
        if granted != fmt.code:
            offered = ", ".join(format_name(code) for code in self._offered_formats(node))
            raise SourceUnavailable(
                f"{node} ({self.device}) does not grant the 16-bit format {fmt.name} (granted "
                f"{format_name(granted)}; offers {offered or 'unknown formats'}): set "
                f"'format:' to one it offers")
        width, height, fps = self._granted_geometry(capture, node)
        self._warn_size(width, height)
        profile: SixteenBitProfile = profile_from_options(self._sixteen_options,
                                                          fmt.image_type, fmt.bits)
        self._granted16, self._native, self._size = fmt, False, (width, height)
        served = "DEPTH_U16" if profile.image_type == "depth" else "GREYSCALE_U16"
        scale = f", depth_scale {profile.depth_scale:g}" if profile.depth_scale else ""
        return SourceInfo(
            width=width, height=height, fps=fps if fps > 0 else 0.0, native_jpeg=False,
            channels=1, sixteen_bit=profile,
            detail=f"{fmt.name} {width}x{height} @{fps:g} fps on {node} ({self.device}), "
                   f"16-bit values served as {served}{scale}; view "
                   f"{profile.view.describe()}")

    def _setup_controls(self, capture: Capture, node: str) -> None:
        backend = open_controls(node, capture, self._control_device_factory)
        with self._controls_lock:
            self._backend = backend
            wanted = {**self._camera_quality(backend), **self.initial_controls,
                      **self._overrides}
            problems = apply_values(backend, wanted)
            self._last_controls = backend.list_controls()
        for problem in problems:
            log.warning("%s: control not applied: %s", self.name, problem)

    def _camera_quality(self, backend: ControlBackend) -> Dict[str, ControlValue]:
        """The source's ``jpeg_quality`` for the camera's own JPEG compression-quality control
        (V4L2_CID_JPEG_COMPRESSION_QUALITY), when it delivers JPEG and has one: the camera
        encodes at the wanted quality, so nothing is re-encoded for it."""
        if not self._native:
            return {}
        for control in backend.list_controls():
            if control.name == COMPRESSION_QUALITY and control.kind == "int":
                low = control.minimum if control.minimum is not None else 1
                high = control.maximum if control.maximum is not None else 100
                return {COMPRESSION_QUALITY: int(min(high, max(low,
                                                               self.settings.jpeg_quality)))}
        return {}

    def queued_frames(self) -> int:
        """The driver's buffers: after a control change, that many frames already taken may
        still come before the first one that shows it."""
        return self._queued

    @classmethod
    def shot_settings(cls, values: Mapping[str, ControlValue]) -> ShotSettings:
        """Exposure (``exposure_time_absolute``, 100 us units, when not automatic) and gain
        of a frame taken under the controls ``values`` (``v4l2.shot_settings``)."""
        return v4l2_shot.shot_settings(values)

    # -- read -----------------------------------------------------------------------------
    def read(self) -> Frame:
        capture = self._capture
        if capture is None:
            raise SourceError(f"camera {self.name!r} is not open")
        self._apply_queued_controls()
        for _ in range(_MAX_BAD_BUFFERS):
            ok, data = capture.read()
            if not ok or data is None:
                raise SourceError(self._read_failure())
            frame = self._to_frame(data, self._frame_time(capture))
            if frame is not None:
                return frame
        what = f"{self._granted16.name} images" if self._granted16 else "images OpenCV can convert"
        raise SourceError(f"{self.name}: {self._node} delivers no valid {what}")

    def _read_failure(self) -> str:
        if not os.path.exists(self._node):
            return f"{self.name}: camera {self._node} ({self.device}) was unplugged"
        timeout = os.environ.get("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "10")
        return (f"{self.name}: {self._node} stopped delivering frames (disconnected, or "
                f"none within {timeout} s)")

    def _frame_time(self, capture: Capture) -> float:
        """Wall-clock time the frame just read was taken: its buffer timestamp when that is
        the driver's monotonic clock (see the module doc), else now."""
        clock = self._clock
        if self._timestamps != "copy":
            stamp = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            now = clock.monotonic()
            if now - _KERNEL_TIME_MAX_AGE <= stamp <= now + _KERNEL_TIME_MAX_AHEAD:
                return clock.to_wall(stamp)
            if not self._kernel_time_failed:
                self._kernel_time_failed = True
                problem = ("no buffer timestamp" if stamp <= 0 else f"buffer timestamp "
                           f"{stamp:.3f} s is not a recent monotonic time (now {now:.3f} s)")
                log.warning("%s: %s: frames timed when read", self.name, problem)
        return clock.wall()

    def _to_frame(self, data: np.ndarray, now: float) -> Optional[Frame]:
        self._sequence += 1
        if self._native:  # the buffer as the camera filled it; the capture loop checks it
            jpeg = data.tobytes()
            return Frame(self._sequence, now, self._size[0], self._size[1], jpeg=jpeg,
                         jpeg_quality=self._quality.quality(jpeg))
        if self._granted16 is not None:
            values = decode_buffer(data, self._granted16, *self._size)
            if values is None:
                log.debug("%s: skipped a buffer shorter than one %s image", self.name,
                          self._granted16.name)
                return None
            return Frame(self._sequence, now, self._size[0], self._size[1], pixels=values)
        if data.ndim < 2 or data.shape[0] < 2:
            return None  # a raw buffer OpenCV could not convert
        return Frame(self._sequence, now, int(data.shape[1]), int(data.shape[0]), pixels=data)

    def _apply_queued_controls(self) -> None:
        backend = self._backend
        if isinstance(backend, OpenCVControls):
            for name in backend.apply_pending():
                log.warning("%s: camera refused a change of %s", self.name, name)

    # -- close ----------------------------------------------------------------------------
    def close(self) -> None:
        capture, self._capture = self._capture, None
        with self._controls_lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()
        if capture is not None:
            capture.release()

    # -- controls (any thread) ------------------------------------------------------------
    def controls(self) -> Sequence[Control]:
        """Current controls of the open camera; the last known ones while it is closed."""
        with self._controls_lock:
            if self._backend is not None:
                with contextlib.suppress(OSError):  # unplugged: the capture thread reopens
                    self._last_controls = self._backend.list_controls()
            return list(self._last_controls)

    def set_control(self, name: str, value: ControlValue) -> None:
        """Apply now when open, and remember it so a reopen (replug) re-applies it.
        ``KeyError`` for a name the camera does not have, ``ValueError`` for a bad value."""
        with self._controls_lock:
            if self._backend is None:
                known = {control.name for control in self._last_controls}
                if name not in known:
                    raise KeyError(name)
            else:
                with contextlib.suppress(OSError):  # unplugged: re-applied at the next open
                    self._backend.set_value(name, value)
            self._overrides[name] = value
