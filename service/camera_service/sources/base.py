"""The camera-source interface every kind of camera implements.

A source is owned by exactly one capture thread (see ``pipeline``), which calls
``open`` / ``read`` / ``close``. ``controls`` and ``set_control`` may be called from RPC
threads at any time, so implementations must make those thread-safe.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from camera_service.core.sixteen_bit import SixteenBitProfile

ControlValue = Union[int, float, bool, str]


@dataclass(frozen=True)
class ControlRecord:
    """The camera controls in effect when a frame was captured (its per-frame record).

    ``generation`` counts the control changes of one capture thread that frames show:
    every change a client makes is given the next generation, and frames carry it once the
    driver accepted the change and the frames it had queued before were drained
    (``capture.control_records``). ``values``: control name -> value in effect (read-only).
    """

    generation: int = 0
    values: Mapping[str, ControlValue] = field(
        default_factory=lambda: MappingProxyType({}))


NO_RECORD = ControlRecord()


@dataclass(frozen=True)
class Frame:
    """One captured image, immutable and shared by every consumer.

    Exactly one of ``jpeg`` and ``pixels`` is set by a source:
    - ``jpeg``: the camera's own JPEG bytes (MJPEG cameras, IP cameras, synthetic native mode),
      served untouched when a request allows it.
    - ``pixels``: a read-only ``uint8`` array, ``H x W x 3`` BGR, ``H x W`` grey or
      ``H x W x 4`` BGRA (OpenCV's channel order); or, from a 16-bit source (thermal,
      depth), an ``H x W`` ``uint16`` array of the camera's values in this machine's byte
      order (``sixteen_bit`` is True).

    ``capture_time`` is the local wall-clock time (``time.time()`` seconds) at which the frame
    was taken, as close to the sensor as the source can tell (each source's module doc says
    which clock: V4L2 the driver's buffer timestamp); the servicer converts it to robot
    time. ``controls`` is the frame's record of the camera controls in effect; sources leave
    it empty, the capture thread stamps it.
    """

    sequence: int
    capture_time: float
    width: int
    height: int
    jpeg: Optional[bytes] = None
    jpeg_quality: Optional[int] = None
    pixels: Optional[np.ndarray] = None
    controls: ControlRecord = NO_RECORD

    def __post_init__(self) -> None:
        if (self.jpeg is None) == (self.pixels is None):
            raise ValueError("a Frame carries exactly one of jpeg or pixels")
        if self.pixels is not None and self.pixels.flags.writeable:
            self.pixels.flags.writeable = False

    @property
    def sixteen_bit(self) -> bool:
        """True for a frame of 16-bit values (thermal, depth)."""
        return self.pixels is not None and self.pixels.dtype == np.uint16

    @property
    def channels(self) -> int:
        """Channels of the pixel data: 1 grey, 3 colour, 4 colour+alpha (JPEG counts as 3)."""
        if self.pixels is None:
            return 3
        return 1 if self.pixels.ndim == 2 else int(self.pixels.shape[2])


@dataclass(frozen=True)
class Control:
    """A camera setting exposed to clients as an ImageService custom parameter.

    ``kind`` is ``"int"``, ``"float"``, ``"bool"`` or ``"menu"`` (``choices`` lists the menu
    entries). Ranges and defaults are read from the device, never hard-coded per camera.
    """

    name: str
    kind: str
    default: ControlValue
    value: ControlValue
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None
    choices: Tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class SourceInfo:
    """What an opened source actually delivers (may differ from what was asked)."""

    width: int
    height: int
    fps: float
    native_jpeg: bool
    channels: int = 3
    detail: str = ""  # e.g. "MJPG 1280x720 @30 on /dev/video0", for logs
    # Set when the source delivers 16-bit values (Frame.sixteen_bit): what it serves them as.
    sixteen_bit: Optional[SixteenBitProfile] = None


@dataclass(frozen=True)
class ShotSettings:
    """How a frame was taken, as ``ImageCapture.capture_params`` reports it: ``exposure`` in
    seconds and unitless ``gain``; None where the camera chose it (automatic) or has no
    such control."""

    exposure: Optional[float] = None
    gain: Optional[float] = None


NO_SHOT_SETTINGS = ShotSettings()


@dataclass(frozen=True)
class ClipSettings:
    """Video clips of a source for Data Acquisition (``camera_service.clips``): ``enabled``
    keeps a ring of the last ``pre_roll_s`` seconds of frames so a clip can start before the
    capture action arrived; disabled sources keep no ring."""

    enabled: bool = False
    pre_roll_s: float = 2.0


@dataclass
class SourceSettings:
    """Settings common to every source kind, from the ``sources`` section of the config."""

    name: str
    width: Optional[int] = None
    height: Optional[int] = None
    fps: Optional[float] = None
    jpeg_quality: int = 75
    jpeg_passthrough: str = "auto"  # encoding.passthrough (the schema lists the policies)
    options: dict = field(default_factory=dict)  # kind-specific keys, validated by the kind
    # calibration / intrinsics / mount (camera_service.geometry.config.GeometrySettings)
    geometry: Optional[object] = None
    clips: ClipSettings = ClipSettings()


def _any_size(_width: int, _height: int) -> None:
    """No limit (until the capture stage sets one)."""


class CameraSource(abc.ABC):
    """A camera: opened, read frame by frame at its own rate, closed.

    Contract for implementations:
    - ``open`` returns the granted ``SourceInfo`` or raises ``SourceUnavailable`` with a
      one-line reason. It must not leave file descriptors or threads behind on failure.
    - ``read`` blocks until the next frame and returns it, paced at the camera's rate (a
      source that could go faster, e.g. a file or synthetic source, sleeps). It raises
      ``SourceError`` when the source stopped delivering; the caller then calls ``close``.
    - ``close`` is idempotent and releases everything ``open`` acquired.
    """

    kind: str = "abstract"

    def __init__(self, settings: SourceSettings) -> None:
        self.settings = settings
        self._check_declared_size: Callable[[int, int], None] = _any_size

    def limit_declared_size(self, check: Callable[[int, int], None]) -> None:
        """``check(width, height)`` raises (``SourceUnavailable``) for a size whose frames
        may not be decoded (the capture stage's frame budget). Sources that decode a stream
        themselves call ``declared_size_check`` with the size the stream declares, before
        decoding anything; sources that hand on the camera's bytes need not."""
        self._check_declared_size = check

    def declared_size_check(self, width: int, height: int) -> None:
        """Refuse (raise) a stream declaring ``width`` x ``height`` over the limit."""
        self._check_declared_size(width, height)

    @property
    def name(self) -> str:
        return self.settings.name

    def expected_size(self) -> Tuple[int, int]:
        """(width, height) to list before the source has ever opened."""
        return (self.settings.width or 640, self.settings.height or 480)

    @abc.abstractmethod
    def open(self) -> SourceInfo: ...

    @abc.abstractmethod
    def read(self) -> Frame: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def controls(self) -> Sequence[Control]:
        """The camera's adjustable settings with current values; empty when it has none."""
        return []

    def set_control(self, name: str, value: ControlValue) -> None:
        """Apply one setting. Raises ``KeyError`` for an unknown name, ``ValueError`` when out
        of range. Takes effect for every client of this source."""
        raise KeyError(name)

    def queued_frames(self) -> int:
        """How many frames a ``read`` may still return that were captured before a control
        change the camera has just accepted (frames waiting in the driver's queue); 0 for a
        source whose next read captures anew. Asked by the capture thread after each open."""
        return 0

    @classmethod
    def shot_settings(cls, values: Mapping[str, ControlValue]) -> ShotSettings:
        """Exposure and gain of a frame taken while the controls had ``values`` (control name
        -> value, a frame's record); unset for a kind with no such controls."""
        return NO_SHOT_SETTINGS

    def describe(self) -> str:
        """Where the camera is, for log lines (device path, URL, file name)."""
        return self.kind

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.describe()}>"

