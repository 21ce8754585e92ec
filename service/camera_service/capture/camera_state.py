"""What is known about one camera right now, in one place.

``CameraState`` is written by the camera's capture thread (opened, frame delivered, failed)
and by the stall watchdog through one locked transition (``stalled``); the servicer and the
fault reporter only read it, as an immutable ``CameraStatus`` snapshot. Nothing else holds a
copy of "this camera is failing".

What the camera actually delivers is counted here too: ``frame_size`` is the size of the
last frame delivered (not what was asked, nor what the driver claimed), and
``delivered_fps`` the rate of the frames delivered in the last ``RATE_WINDOW`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Deque, Optional, Tuple

from camera_service.sources.base import Control, SourceInfo

RATE_WINDOW = 5.0  # seconds of delivered frames the rate is counted over
_RATE_FRAMES = 2048  # frame times kept (bounded whatever the rate)


@dataclass(frozen=True)
class CameraStatus:
    """A consistent snapshot of one camera.

    ``generation`` counts successful opens (0 = never opened): anything derived from what an
    open granted (``info``, ``controls``) can be cached under ``(name, generation)``.
    ``failure`` is the one-line reason the camera is not delivering, None while it is.
    ``controls`` is the control spec read at the last open (ranges, defaults).
    """

    name: str
    generation: int = 0
    info: Optional[SourceInfo] = None
    controls: Tuple[Control, ...] = ()
    failure: Optional[str] = None
    frames: int = 0
    last_frame_at: Optional[float] = None  # time.monotonic() of the latest frame (or open)
    frame_size: Optional[Tuple[int, int]] = None  # (width, height) of the last frame delivered

    @property
    def channels(self) -> int:
        """Channels the open camera delivers (3 before the first open)."""
        return self.info.channels if self.info is not None else 3

    @property
    def frame_period(self) -> float:
        """Seconds between frames at the granted rate; 0 when unknown."""
        return 1.0 / self.info.fps if self.info is not None and self.info.fps > 0 else 0.0


class CameraState:
    """The state of camera ``name``; every transition returns whether the healthy/failing
    state changed, so the caller reports each change exactly once."""

    def __init__(self, name: str) -> None:
        self._lock = threading.Lock()
        self._status = CameraStatus(name)
        self._frame_times: Deque[float] = deque(maxlen=_RATE_FRAMES)

    @property
    def name(self) -> str:
        return self._status.name

    def status(self) -> CameraStatus:
        """The current snapshot (never blocks on the camera)."""
        with self._lock:
            return self._status

    def opened(self, info: SourceInfo, controls: Tuple[Control, ...],
               now: float | None = None) -> None:
        """The camera opened and grants ``info``; the watchdog counts from now."""
        with self._lock:
            status = self._status
            self._status = replace(status, generation=status.generation + 1, info=info,
                                   controls=tuple(controls),
                                   last_frame_at=time.monotonic() if now is None else now)

    def delivered(self, now: float | None = None,
                  size: Optional[Tuple[int, int]] = None) -> bool:
        """A frame (of ``size`` (width, height), when given) arrived; returns True when this
        ends a failure (recovery)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            status = self._status
            self._frame_times.append(now)
            self._status = replace(status, frames=status.frames + 1, failure=None,
                                   last_frame_at=now,
                                   frame_size=size if size is not None else status.frame_size)
            return status.failure is not None

    def delivered_fps(self, now: float | None = None,
                      window: float = RATE_WINDOW) -> Optional[float]:
        """Frames per second delivered over the last ``window`` seconds: 0.0 when none came
        in it, None when one frame is too few to say."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._frame_times if now - t <= window]
        if not recent:
            return 0.0 if self._frame_times else None
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return None
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def failed(self, reason: str) -> bool:
        """The camera is not delivering for ``reason``; returns True when it was healthy."""
        with self._lock:
            was_healthy = self._status.failure is None
            self._status = replace(self._status, failure=reason)
            return was_healthy

    def stalled(self, stall_after: float, now: float | None = None) -> str | None:
        """Watchdog transition: if the healthy, open camera has delivered nothing for
        ``stall_after`` seconds (or 10 frame periods, if longer), mark it failing and return
        the reason; else None (also when already failing: reported once)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            status = self._status
            if status.last_frame_at is None or status.failure is not None:
                return None
            silent = now - status.last_frame_at
            if silent < max(stall_after, 10 * status.frame_period):
                return None
            reason = f"camera {status.name!r} delivered no frame for {silent:.1f} s"
            self._status = replace(status, failure=reason)
            return reason
