"""The recent frames of one clip-enabled source, for the pre-roll of clips.

A ``FrameRing`` subscribes to the source in the ``FrameStore`` and keeps references to the
frames the capture already made (no copies) for ``pre_roll_s`` seconds, capped at the bytes
its ``RingBudget`` allows (then it keeps less time and says so once, see
``RingBudget.does_not_fit``). A recording ``follow``s the ring: it gets the frames already
held from a start time on, then every new frame, without a gap or a duplicate.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Callable, Deque, List, Optional, Tuple

from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.clips.budget import RingBudget

_LOG = logging.getLogger(__name__)
# Kept beyond the pre-roll: an acquisition reaches the plugin a little after its action time
# (robot to payload, time sync), and its pre-roll counts from the action time.
ARRIVAL_MARGIN_S = 1.0

# listener(stored): a new frame, or None when the camera failed (withdrawn).
Listener = Callable[[Optional[StoredFrame]], None]


def frame_bytes(stored: StoredFrame) -> int:
    """The memory a frame holds (its JPEG bytes or its pixel array)."""
    frame = stored.frame
    if frame.jpeg is not None:
        return len(frame.jpeg)
    return int(frame.pixels.nbytes) if frame.pixels is not None else 0


class FrameRing:
    """The last ``pre_roll_s`` seconds (capture time, plus ``ARRIVAL_MARGIN_S``) of
    ``source``'s frames, within ``budget.max_bytes``. ``attach`` subscribes it to a
    ``FrameStore``; thread-safe."""

    def __init__(self, source: str, pre_roll_s: float, budget: RingBudget) -> None:
        self.source = source
        self.pre_roll_s = pre_roll_s
        self.budget = budget
        self._lock = threading.Lock()
        self._frames: Deque[StoredFrame] = collections.deque()
        self._bytes = 0
        self._listeners: List[Listener] = []
        self._warned = False
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, store: FrameStore) -> None:
        """Start receiving the source's frames from ``store``."""
        self._unsubscribe = store.subscribe(self.source, self.on_frame)

    def detach(self) -> None:
        """Stop receiving frames and drop the ones held."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._lock:
            self._frames.clear()
            self._bytes = 0

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def held_seconds(self) -> float:
        """The capture-time span of the frames held."""
        with self._lock:
            if len(self._frames) < 2:
                return 0.0
            return self._frames[-1].frame.capture_time - self._frames[0].frame.capture_time

    def on_frame(self, stored: StoredFrame | None) -> None:
        """``FrameStore`` subscriber (capture thread): keep ``stored``, drop what is too old
        or over the budget, pass it on to the recordings following."""
        with self._lock:
            if stored is None:  # the camera failed: what is held is from before the gap
                self._frames.clear()
                self._bytes = 0
            else:
                self._keep(stored)
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(stored)

    def _keep(self, stored: StoredFrame) -> None:
        self._frames.append(stored)
        self._bytes += frame_bytes(stored)
        oldest_wanted = stored.frame.capture_time - self.pre_roll_s - ARRIVAL_MARGIN_S
        # One frame older than the pre-roll stays, so a clip can start at its exact time.
        while len(self._frames) > 1 and self._frames[1].frame.capture_time <= oldest_wanted:
            self._bytes -= frame_bytes(self._frames.popleft())
        over = False
        while len(self._frames) > 1 and self._bytes > self.budget.max_bytes:
            self._bytes -= frame_bytes(self._frames.popleft())
            over = True
        if over and not self._warned:
            self._warned = True
            span = stored.frame.capture_time - self._frames[0].frame.capture_time
            rate = self._bytes / span if span > 0 else 0.0
            _LOG.warning("%s", self.budget.does_not_fit(self.source, self.pre_roll_s, rate,
                                                        ARRIVAL_MARGIN_S))

    def follow(self, since: float, listener: Listener) -> Tuple[List[StoredFrame], Callable[[],
                                                                                       None]]:
        """The frames held captured at ``since`` or later (local wall-clock seconds) and,
        from then on, every new frame to ``listener``; returns (frames, stop following)."""
        with self._lock:
            held = [s for s in self._frames if s.frame.capture_time >= since]
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return held, stop
