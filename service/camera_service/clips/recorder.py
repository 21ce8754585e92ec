"""Recording one clip of one camera: the ring's pre-roll, then the frames as they come.

``record`` follows the camera's ``FrameRing`` from ``start`` (local wall-clock seconds) and
writes every frame captured before ``end`` through a ``ClipWriter``, so memory holds only
the frames not yet written. It stops early when the request is cancelled
(``RequestCancelledError`` from ``cancel_check``, after closing the file) or when the camera
fails: then the frames up to the failure are kept (the file is finished and stored) and
``ClipResult.failure`` says why; the caller reports a DataError naming the camera.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from camera_service.capture.frame_store import StoredFrame
from camera_service.clips.ring import FrameRing
from camera_service.clips.writer import ClipWriter

POLL_SECONDS = 0.05  # how often cancellation is checked while waiting for a frame
# A camera that delivers nothing for this long (or 10 frame periods) past the clip's end
# counts as failed even before the stall watchdog withdrew it.
SILENCE_SECONDS = 3.0


@dataclass
class ClipResult:
    """What was recorded: the capture times (local) of the frames written, in order, and
    ``failure`` (one line) when the camera failed before the clip's end."""

    frame_times: List[float] = field(default_factory=list)
    frame_sequences: List[int] = field(default_factory=list)
    failure: Optional[str] = None
    skipped: int = 0


def record(ring: FrameRing, writer: ClipWriter, start: float, end: float,
           cancel_check: Callable[[], None], frame_period: float = 0.0,
           now: Callable[[], float] = time.time) -> ClipResult:
    """Write the frames of ``ring``'s camera captured in ``[start, end)`` to ``writer``
    (closed on return). Raises what ``cancel_check`` raises (the file is closed first)."""
    arrived: queue.Queue[Optional[StoredFrame]] = queue.Queue()
    held, stop_following = ring.follow(start, arrived.put)
    result = ClipResult()
    silence = max(SILENCE_SECONDS, 10 * frame_period)
    try:
        for kept in held:
            _write(writer, kept, result)
        while True:
            cancel_check()
            try:
                stored = arrived.get(timeout=POLL_SECONDS)
            except queue.Empty:
                last = result.frame_times[-1] if result.frame_times else start
                if now() > max(end, last) + silence:
                    result.failure = (f"camera {ring.source!r} delivered no frame for "
                                      f"{silence:.0f} s")
                    break
                continue
            if stored is None:
                result.failure = f"camera {ring.source!r} stopped delivering"
                break
            if stored.frame.capture_time >= end:
                break
            if stored.frame.capture_time >= start:
                _write(writer, stored, result)
    finally:
        stop_following()
        writer.close()
    result.skipped = writer.skipped
    return result


def _write(writer: ClipWriter, stored: StoredFrame, result: ClipResult) -> None:
    if writer.add(stored):
        result.frame_times.append(stored.frame.capture_time)
        result.frame_sequences.append(stored.serial)
