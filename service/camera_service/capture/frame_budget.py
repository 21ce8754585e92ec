"""The frame size budget: a camera frame too big for the memory budget fails its camera at
capture, before anything decodes it.

``FrameBudget.check(frame, layout, info)`` has the frame-hygiene check signature (it runs in
the same per-frame step at capture). A frame is measured by what it declares - ``width`` x
``height`` from the JPEG frame header (``layout``, or the ``Frame``'s own size, which sources
take from that header) or the pixel array - and by its bytes:

- declared size x 3 (its decoded BGR size) over ``frame_bytes`` (a 631-byte JPEG whose header
  says 30000x30000 would decode to 2.5 GiB), or
- a JPEG of more than ``jpeg_bytes``

raises ``FrameTooLarge`` (a ``SourceError``: the camera is reported failed, faulted on the
robot, and retried) with a line naming the limit and the setting that raises it.
``check_open(info)`` (a frame-hygiene open check) refuses a source whose opened size is
already over the budget, so that size is never listed either.
"""

from __future__ import annotations

from typing import Any, Optional

from camera_service.core.errors import SourceError, SourceUnavailable
from camera_service.core.memory_limits import MIB, BudgetLimits, mib_text
from camera_service.sources.base import Frame, SourceInfo

SETTING = "service.memory_limit_mib"


class FrameTooLarge(SourceError):
    """A frame over the frame budget; the message names the limit and the setting."""


class SizeTooLarge(SourceUnavailable):
    """An opened source whose frames would be over the frame budget (refused at open, so
    its size is never listed)."""


class FrameBudget:
    """Per-frame size limits of camera ``camera`` derived from the memory budget
    (immutable, so thread-safe)."""

    def __init__(self, limits: BudgetLimits, camera: str) -> None:
        self.camera = camera
        self.memory_limit = limits.memory_limit
        self.frame_bytes = limits.frame_bytes
        self.jpeg_bytes = max(MIB, limits.frame_bytes // 4)

    def check_open(self, info: SourceInfo) -> None:
        """Raise ``SizeTooLarge`` when the size the source opened with is over budget."""
        self.check_size(info.width, info.height)

    def check_size(self, width: int, height: int) -> None:
        """Raise ``SizeTooLarge`` when frames of ``width`` x ``height`` are over budget
        (also what a decoding source checks before decoding: ``limit_declared_size``)."""
        problem = self._size_problem(width, height)
        if problem:
            raise SizeTooLarge(problem)

    def _size_problem(self, width: int, height: int) -> str:
        decoded = width * height * 3
        if decoded <= self.frame_bytes:
            return ""
        return (f"frames of {width}x{height} ({mib_text(decoded)} MiB decoded) are over the "
                f"frame budget of {mib_text(self.frame_bytes)} MiB (memory limit "
                f"{mib_text(self.memory_limit)} MiB); set a smaller camera size, or raise "
                f"{SETTING} and the container's memory limit")

    def check(self, frame: Frame, layout: Optional[Any] = None,
              info: Optional[SourceInfo] = None) -> None:
        """Raise ``FrameTooLarge`` when ``frame`` is over budget. ``layout`` is the parsed
        JPEG header (anything with ``width``/``height``) when there is one."""
        width, height = (layout.width, layout.height) if layout is not None else (
            frame.width, frame.height)
        problem = self._size_problem(width, height)
        if problem:
            raise FrameTooLarge(f"camera {self.camera!r}: {problem}")
        if frame.jpeg is not None and len(frame.jpeg) > self.jpeg_bytes:
            raise FrameTooLarge(
                f"camera {self.camera!r}: a {mib_text(len(frame.jpeg))} MiB JPEG frame is over the "
                f"{mib_text(self.jpeg_bytes)} MiB per frame limit (memory limit "
                f"{mib_text(self.memory_limit)} MiB); lower the camera's size or quality, or "
                f"raise {SETTING} and the container's memory limit")

