"""A camera that needs no hardware: a moving test pattern with the frame counter and the
capture time burnt in.

``render_test_pattern`` is a pure function (also used by ``fake_cameras``). ``SyntheticSource``
delivers it either as native JPEG, like an MJPEG camera, or as raw pixels. (Failure injection
for tests lives in ``fake_cameras.failing_camera``, outside the product.)

Options: ``camera_service.schema.sources.SyntheticOptions`` (``native_jpeg``, ``pixel_format``,
``controls``: the values it starts with). Frame times: the wall clock when the pattern was
rendered (the time burnt into it).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import replace
from typing import Dict, Sequence

import cv2
import numpy as np

from camera_service.core.errors import ConfigError, SourceError
from camera_service.schema.sources import SyntheticOptions, read_options
from camera_service.sources import register
from camera_service.sources.base import (
    CameraSource,
    Control,
    ControlValue,
    Frame,
    SourceInfo,
    SourceSettings,
)
from camera_service.sources.pacing import FramePacer

DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 480
DEFAULT_FPS = 15.0

# SMPTE-like colour bars, BGR.
_BARS = (
    (192, 192, 192),
    (0, 192, 192),
    (192, 192, 0),
    (0, 192, 0),
    (192, 0, 192),
    (0, 0, 192),
    (192, 0, 0),
)


@functools.lru_cache(maxsize=8)
def _background(width: int, height: int) -> np.ndarray:
    """Static part of the pattern: colour bars on top, a grey ramp below. Read-only."""
    image = np.empty((height, width, 3), np.uint8)
    bar_rows = max(1, height * 2 // 3)
    edges = np.linspace(0, width, len(_BARS) + 1).astype(int)
    for colour, left, right in zip(_BARS, edges[:-1], edges[1:]):
        image[:bar_rows, left:right] = colour
    ramp = np.linspace(0, 255, width).astype(np.uint8)
    image[bar_rows:] = ramp[None, :, None]
    image.flags.writeable = False
    return image


def render_test_pattern(width: int, height: int, sequence: int, timestamp: float) -> np.ndarray:
    """Render one frame of the test pattern.

    Returns a new, writable ``height x width x 3`` BGR ``uint8`` array: colour bars with a
    white box that moves one step per ``sequence``, and the text ``#<sequence>`` and the UTC
    ``timestamp`` (seconds since the epoch) burnt in. The same arguments give the same image.
    """
    if width < 16 or height < 16:
        raise ValueError(f"test pattern needs at least 16x16 pixels, got {width}x{height}")
    image = _background(width, height).copy()
    box = max(4, min(width, height) // 8)
    span_x = max(1, width - box)
    span_y = max(1, height - box)
    x = (sequence * 8) % (2 * span_x)
    x = x if x < span_x else 2 * span_x - x
    y = (sequence * 5) % (2 * span_y)
    y = y if y < span_y else 2 * span_y - y
    image[y : y + box, x : x + box] = 255
    scale = max(0.4, height / 480.0)
    thickness = max(1, round(scale * 2))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))
    stamp += f".{int((timestamp % 1) * 1000):03d}Z"
    for row, text in enumerate((f"#{sequence}", stamp)):
        origin = (int(10 * scale), int((40 + row * 40) * scale))
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    thickness + 2, cv2.LINE_AA)
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)
    return image


def _fake_controls() -> Dict[str, Control]:
    """The adjustable settings of a synthetic camera, as a real camera would report them."""
    return {
        control.name: control
        for control in (
            Control("brightness", "int", 0, 0, minimum=-64, maximum=64, step=1,
                    description="added to every pixel"),
            Control("contrast", "int", 32, 32, minimum=0, maximum=64, step=1,
                    description="32 leaves the image as rendered"),
            Control("gain", "float", 1.0, 1.0, minimum=0.0, maximum=4.0, step=0.1,
                    description="multiplies every pixel"),
            Control("mirror", "bool", False, False, description="flip left-right"),
            Control("pattern", "menu", "bars", "bars", choices=("bars", "black"),
                    description="what the camera shows behind the text"),
        )
    }


@register("synthetic")
class SyntheticSource(CameraSource):
    """A test-pattern camera at the configured size and rate (defaults 640x480 @ 15 fps).

    Thread-safety: ``read``/``open``/``close`` belong to the capture thread; ``controls`` and
    ``set_control`` may be called from any thread.
    """

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        options = read_options(SyntheticOptions, settings.options)
        self.native_jpeg = options.native_jpeg
        self.pixel_format = options.pixel_format
        self.width = settings.width or DEFAULT_WIDTH
        self.height = settings.height or DEFAULT_HEIGHT
        if self.width < 16 or self.height < 16:
            raise ConfigError("width", f"must be at least 16x16, got {self.width}x{self.height}")
        self.fps = float(settings.fps or DEFAULT_FPS)
        if self.fps <= 0:
            raise ConfigError("fps", f"must be > 0, got {settings.fps!r}")
        self._lock = threading.Lock()
        self._controls = _fake_controls()
        for name, value in (options.controls or {}).items():  # the values it starts with
            control = self._controls.get(name)
            if control is None:
                raise ConfigError(f"controls.{name}", f"a synthetic camera has no such "
                                  f"control; use {', '.join(self._controls)}")
            try:
                self._controls[name] = replace(control, value=_checked_value(control, value))
            except (KeyError, ValueError) as err:
                raise ConfigError(f"controls.{name}", str(err)) from None
        self._sequence = 0
        self._pacer = FramePacer(self.fps)
        self._is_open = False

    # -- CameraSource ---------------------------------------------------------------------
    def expected_size(self):
        return (self.width, self.height)

    def describe(self) -> str:
        mode = "native JPEG" if self.native_jpeg else f"raw {self.pixel_format}"
        return f"synthetic {self.width}x{self.height} @{self.fps:g} fps, {mode}"

    def open(self) -> SourceInfo:
        self._is_open = True
        self._pacer = FramePacer(self.fps)  # the first frame comes at once
        channels = {"bgr": 3, "grey": 1, "bgra": 4}[self.pixel_format]
        return SourceInfo(
            width=self.width,
            height=self.height,
            fps=self.fps,
            native_jpeg=self.native_jpeg,
            channels=3 if self.native_jpeg else channels,
            detail=self.describe(),
        )

    def read(self) -> Frame:
        if not self._is_open:
            raise SourceError(f"synthetic camera {self.name!r} is not open")
        self._pacer.wait()
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
            values = {name: control.value for name, control in self._controls.items()}
        capture_time = time.time()
        image = self._adjust(render_test_pattern(self.width, self.height, sequence,
                                                 capture_time), values)
        if self.native_jpeg:
            quality = self.settings.jpeg_quality
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise SourceError(f"synthetic camera {self.name!r}: JPEG encoding failed")
            return Frame(sequence, capture_time, self.width, self.height,
                         jpeg=encoded.tobytes(), jpeg_quality=quality)
        if self.pixel_format == "grey":
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        elif self.pixel_format == "bgra":
            image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
        return Frame(sequence, capture_time, self.width, self.height, pixels=image)

    def close(self) -> None:
        self._is_open = False

    def controls(self) -> Sequence[Control]:
        with self._lock:
            return list(self._controls.values())

    def set_control(self, name: str, value: ControlValue) -> None:
        with self._lock:
            control = self._controls[name]  # KeyError for an unknown name, per the contract
            self._controls[name] = replace(control, value=_checked_value(control, value))

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _adjust(image: np.ndarray, values: Dict[str, ControlValue]) -> np.ndarray:
        if values["pattern"] == "black":
            image[image < 255] = 0
        alpha = float(values["gain"]) * float(values["contrast"]) / 32.0
        beta = float(values["brightness"]) + 128.0 * (1.0 - float(values["contrast"]) / 32.0)
        if alpha != 1.0 or beta != 0.0:
            image = cv2.convertScaleAbs(image, alpha=alpha, beta=beta)
        if values["mirror"]:
            image = np.ascontiguousarray(image[:, ::-1])
        return image


def _checked_value(control: Control, value: ControlValue) -> ControlValue:
    """``value`` converted to the control's kind; ``ValueError`` when it does not fit."""
    if control.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{control.name} must be true or false, got {value!r}")
        return value
    if control.kind == "menu":
        if value not in control.choices:
            raise ValueError(f"{control.name} must be one of {', '.join(control.choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{control.name} must be a number, got {value!r}")
    if control.kind == "int":
        if int(value) != value:
            raise ValueError(f"{control.name} must be an integer, got {value!r}")
        value = int(value)
    if control.minimum is not None and value < control.minimum:
        raise ValueError(f"{control.name} must be >= {control.minimum:g}, got {value}")
    if control.maximum is not None and value > control.maximum:
        raise ValueError(f"{control.name} must be <= {control.maximum:g}, got {value}")
    return value
