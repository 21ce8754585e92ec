"""A camera that fails on command, for tests of capture, faults and recovery.

``FailingCamera`` is the product's synthetic test-pattern camera (``SyntheticSource``) with
failure injection around it:
- ``fail_after_frames=N``: stop delivering after N frames, until ``resume()``;
- ``stop_delivering()``: an unplugged camera - ``read`` raises ``SourceError`` and ``open``
  raises ``SourceUnavailable`` until ``resume()``;
- ``open_attempts`` / ``open_count`` (attempts / successful opens) and
  ``wait_for_open_attempts(n)``, so a test can wait for retries to have happened instead of
  sleeping.

It is a ``CameraSource`` like any other (tests hand it to ``CameraService(sources=...)``;
``failing_cameras(config)`` builds a config's sources with it); it is not a config
``type``, so the shipped service cannot be told to fail.
"""

from __future__ import annotations

import threading
from typing import List, Optional, Sequence, Tuple

from camera_service.config.model import Config
from camera_service.core.errors import SourceError, SourceUnavailable
from camera_service.sources import create_source
from camera_service.sources.base import (
    CameraSource,
    Control,
    ControlValue,
    Frame,
    SourceInfo,
    SourceSettings,
)
from camera_service.sources.synthetic import SyntheticSource


class FailingCamera(CameraSource):
    """A synthetic camera (``settings`` as for ``type: synthetic``) that fails on command.

    Thread-safety: ``open``/``read``/``close`` belong to the capture thread; the failure
    controls and counters may be used from any thread.
    """

    kind = "failing"

    def __init__(self, settings: SourceSettings, fail_after_frames: Optional[int] = None) -> None:
        super().__init__(settings)
        self._camera = SyntheticSource(settings)
        self._cond = threading.Condition()
        self._failing = False
        self._fail_after = fail_after_frames
        self._delivered = 0
        self.open_attempts = 0
        self.open_count = 0

    # -- failure controls ---------------------------------------------------------------
    def stop_delivering(self) -> None:
        """Simulate an unplugged camera until ``resume``."""
        with self._cond:
            self._failing = True

    def resume(self) -> None:
        """Undo ``stop_delivering`` (or a reached ``fail_after_frames``)."""
        with self._cond:
            self._failing = False
            self._fail_after = None
            self._delivered = 0

    def wait_for_open_attempts(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``open`` was called at least ``count`` times in all (True), or
        ``timeout`` seconds passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.open_attempts >= count, timeout)

    # -- CameraSource ---------------------------------------------------------------------
    def expected_size(self) -> Tuple[int, int]:
        return self._camera.expected_size()

    def describe(self) -> str:
        return f"failing {self._camera.describe()}"

    def open(self) -> SourceInfo:
        with self._cond:
            self.open_attempts += 1
            self._cond.notify_all()
            if self._failing:
                raise SourceUnavailable(f"camera {self.name!r} is switched off (simulated)")
        info = self._camera.open()
        with self._cond:
            self.open_count += 1
        return info

    def read(self) -> Frame:
        with self._cond:
            if self._fail_after is not None and self._delivered >= self._fail_after:
                self._failing = True
            if self._failing:
                raise SourceError(f"camera {self.name!r} stopped delivering (simulated)")
        frame = self._camera.read()
        with self._cond:
            self._delivered += 1
        return frame

    def close(self) -> None:
        self._camera.close()

    def controls(self) -> Sequence[Control]:
        return self._camera.controls()

    def set_control(self, name: str, value: ControlValue) -> None:
        self._camera.set_control(name, value)


def failing_cameras(config: Config) -> List[CameraSource]:
    """The sources of ``config`` with every ``synthetic`` entry as a ``FailingCamera`` (same
    settings), so a test can make them fail; other kinds are built as the service would."""
    sources: List[CameraSource] = []
    for entry in config.sources:
        if entry.type == "synthetic":
            sources.append(FailingCamera(entry.settings))
        else:
            sources.append(create_source(entry.type, entry.settings))
    return sources
