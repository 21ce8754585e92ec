"""Frame hygiene: every captured frame is checked once, at capture, before anyone sees it.

The capture thread hands each frame a source read to ``FrameHygiene.admit``, which returns
the frame to store (possibly normalized) or ``None`` when the frame is dropped:

- a camera JPEG that is truncated or corrupt (``camera_service.core.jpeg.parse_frame``:
  no SOI, no EOI after the image data, a misplaced or unknown marker or a segment running
  past the end in its header) or whose frame header declares another size than the one the
  source opened with is dropped and counted, never served. Only the markers that matter are
  read - the header up to the first scan (remembered while a camera's headers stay the same)
  and the EOI at the end - never every byte of the image data, whose damage decoders
  conceal;
- a JPEG without Huffman tables gets the standard ones, bytes after its end-of-image marker
  are cut (``camera_service.jpeg.normalized``); an ``AVI1`` APP0 is as good as ``JFIF``;
- a well-formed JPEG passes as the very same bytes (passthrough stays byte-identical);
- extra ``checks`` (e.g. a size budget) see every frame that parsed, with its JPEG layout
  (``None`` for pixel frames) and the opened ``SourceInfo``, before the size comparison; they
  raise ``DropFrame`` to drop one frame, or ``SourceError`` to fail the camera at once;
  ``open_checks`` see the ``SourceInfo`` of every open and may refuse it
  (``SourceUnavailable``: the open counts as failed, its size is never published).

A camera that sends nothing but dropped frames - ``fault_after_frames`` in a row spanning at
least ``fault_after_seconds`` - makes ``admit`` raise ``UnusableFrames`` (a ``SourceError``)
saying so; the capture loop reports the camera failed and reopens it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Callable, Dict, Optional, Sequence

from camera_service.core import jpeg
from camera_service.core.errors import SourceError
from camera_service.sources.base import Frame, SourceInfo

_LOG = logging.getLogger(__name__)

# check(frame, layout or None, info): raise DropFrame to drop the frame, SourceError to fail.
# open_check(info): raise SourceUnavailable to refuse what an opened source delivers.
OpenCheck = Callable[[SourceInfo], None]
FrameCheck = Callable[[Frame, Optional[jpeg.JpegLayout], SourceInfo], None]

_HINTS = {
    "truncated": "check the camera's cable and USB bandwidth (fewer cameras per bus, or a "
                 "lower size or rate)",
    "corrupt": "check the camera's cable and USB bandwidth (fewer cameras per bus, or a "
               "lower size or rate)",
    "wrong_size": "the camera changed its size; it is reopened",
}


class DropFrame(Exception):
    """Raised by a check: drop this one frame. ``kind`` keys the drop counter (e.g.
    ``"truncated"``); the message says why in a few words."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


class UnusableFrames(SourceError):
    """The camera delivered only dropped frames for a while; the message names the last
    reason and the fix."""


def check_jpeg_size(frame: Frame, layout: Optional[jpeg.JpegLayout], info: SourceInfo) -> None:
    """Drop a JPEG whose frame header declares another size than the opened source's."""
    if layout is not None and (layout.width, layout.height) != (info.width, info.height):
        raise DropFrame("wrong_size", f"declares {layout.width}x{layout.height}, the camera "
                                      f"opened at {info.width}x{info.height}")


class FrameHygiene:
    """The per-frame gate of one source (see module doc). ``start`` at every open, ``admit``
    for every frame, both from the capture thread; ``counts`` from any thread."""

    def __init__(self, source_name: str, checks: Sequence[FrameCheck] = (),
                 open_checks: Sequence[OpenCheck] = (),
                 fault_after_frames: int = 5, fault_after_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source_name = source_name
        self.checks = (*checks, check_jpeg_size)  # budget-like checks fail the camera first
        self.open_checks = tuple(open_checks)
        self.fault_after_frames = fault_after_frames
        self.fault_after_seconds = fault_after_seconds
        self._clock = clock
        self._info: Optional[SourceInfo] = None
        self._headers = jpeg.HeaderMemo()
        self._lock = threading.Lock()
        self._counts: Dict[str, int] = {"passed": 0, "tables_inserted": 0, "trimmed": 0}
        self._dropped: Dict[str, int] = {}
        self._bad_run = 0
        self._bad_since = 0.0
        self._logged_drop = False

    def start(self, info: SourceInfo) -> None:
        """The source (re)opened delivering ``info``: frames are checked against it. An
        ``open_checks`` entry may refuse ``info`` itself (raises ``SourceUnavailable``)."""
        for check in self.open_checks:
            check(info)
        self._info = info
        self._headers = jpeg.HeaderMemo()
        self._bad_run = 0
        self._logged_drop = False

    def admit(self, frame: Frame) -> Optional[Frame]:
        """The frame to store (normalized, or ``frame`` itself), or ``None`` when dropped.
        Raises ``UnusableFrames`` when the camera sends only dropped frames."""
        info = self._info
        if info is None:
            raise RuntimeError("FrameHygiene.admit before start")
        try:
            admitted = self._checked(frame, info)
        except DropFrame as drop:
            self._drop(drop)
            return None
        self._bad_run = 0
        return admitted

    def _checked(self, frame: Frame, info: SourceInfo) -> Frame:
        layout, sent = None, frame.jpeg
        if sent is not None:
            try:
                layout = jpeg.parse_frame(sent, self._headers)
                jpeg.check_scan_data(sent, layout)  # a damaged frame is never served
            except jpeg.JpegError as err:
                raise DropFrame(err.kind, f"{err.kind} JPEG ({err})") from None
        for check in self.checks:
            check(frame, layout, info)
        if layout is None or sent is None:
            self._count("passed")
            return frame
        data = jpeg.normalized(sent, layout)
        if layout.needs_tables:
            self._count("tables_inserted")
        elif data is not sent:
            self._count("trimmed")
        self._count("passed")
        if data is sent and (frame.width, frame.height) == (layout.width, layout.height):
            return frame
        return dataclasses.replace(frame, jpeg=data, width=layout.width, height=layout.height)

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _drop(self, drop: DropFrame) -> None:
        with self._lock:
            self._dropped[drop.kind] = self._dropped.get(drop.kind, 0) + 1
        now = self._clock()
        if self._bad_run == 0:
            self._bad_since = now
        self._bad_run += 1
        if not self._logged_drop:
            self._logged_drop = True
            _LOG.info("camera %r: dropped a frame: %s (further drops are only counted)",
                      self.source_name, drop)
        else:
            _LOG.debug("camera %r: dropped a frame: %s", self.source_name, drop)
        span = now - self._bad_since
        if self._bad_run >= self.fault_after_frames and span >= self.fault_after_seconds:
            run, self._bad_run = self._bad_run, 0
            hint = _HINTS.get(drop.kind, "check the camera")
            raise UnusableFrames(f"camera {self.source_name!r} sends only unusable frames: "
                                 f"{run} in a row over {span:.1f} s (last: {drop}); {hint}")

    def counts(self) -> Dict[str, object]:
        """``passed``, ``tables_inserted``, ``trimmed`` and ``dropped`` (per kind) so far."""
        with self._lock:
            return {**self._counts, "dropped": dict(self._dropped)}
