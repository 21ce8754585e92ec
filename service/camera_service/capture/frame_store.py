"""The latest frame of every source.

Writers: one capture thread per source. Readers: any number of RPC threads. A reader never
waits on the camera unless it asks to (``wait_for_frame`` while a source is still starting,
``wait_for_controls`` right after a camera setting was changed). Why a camera is not
delivering is not kept here but in its ``CameraState``; the store only drops the frame of a
failed camera.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from camera_service.sources.base import Frame


@dataclass(frozen=True)
class StoredFrame:
    """A frame as served: ``serial`` is unique per source for the life of the process (it
    keeps increasing across camera reopens, unlike a source's own frame counter), so
    ``(source, serial)`` identifies a frame in the output cache."""

    source: str
    serial: int
    frame: Frame
    stored_at: float  # time.monotonic() when it arrived


# subscriber(stored): every frame stored for the source, or None when the source failed
# (withdrawn). Called on the capture thread: it must only take a reference and return.
FrameSubscriber = Callable[[Optional[StoredFrame]], None]


@dataclass
class _Slot:
    latest: StoredFrame | None = None
    serial: int = 0
    withdrawn: bool = False  # the source failed: no frame until it delivers again
    subscribers: List[FrameSubscriber] = field(default_factory=list)


class FrameStore:
    """Latest frame per source name."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._slots: Dict[str, _Slot] = {}

    def put(self, source: str, frame: Frame) -> StoredFrame:
        """Publish ``frame`` as the latest of ``source`` (and hand it to its subscribers)."""
        with self._cond:
            slot = self._slots.setdefault(source, _Slot())
            slot.serial += 1
            slot.withdrawn = False
            stored = slot.latest = StoredFrame(source, slot.serial, frame, time.monotonic())
            subscribers = tuple(slot.subscribers)
            self._cond.notify_all()
        for subscriber in subscribers:
            subscriber(stored)
        return stored

    def withdraw(self, source: str) -> None:
        """The source stopped delivering: drop its frame so nobody is served a stale one, and
        wake whoever waits for one (subscribers get None)."""
        with self._cond:
            slot = self._slots.setdefault(source, _Slot())
            slot.withdrawn = True
            slot.latest = None
            subscribers = tuple(slot.subscribers)
            self._cond.notify_all()
        for subscriber in subscribers:
            subscriber(None)

    def subscribe(self, source: str, subscriber: FrameSubscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every frame of ``source`` from now on (on the capture
        thread, after the frame is stored; ``None`` when the source fails). Returns the
        function that ends the subscription."""
        with self._cond:
            self._slots.setdefault(source, _Slot()).subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._cond:
                slot = self._slots.get(source)
                if slot is not None and subscriber in slot.subscribers:
                    slot.subscribers.remove(subscriber)

        return unsubscribe

    def reset(self, source: str) -> None:
        """Forget the frame of ``source`` (it is being replaced by a source of the same name);
        serial numbers keep counting up, so no cached output is reused."""
        with self._cond:
            slot = self._slots.get(source)
            if slot is not None:
                slot.latest = None
                slot.withdrawn = False
            self._cond.notify_all()

    def latest(self, source: str) -> StoredFrame | None:
        """The newest frame of ``source``, or None if there is none (never blocks)."""
        with self._cond:
            slot = self._slots.get(source)
            return slot.latest if slot else None

    def wait_for_frame(self, source: str, newer_than: int, timeout: float) -> StoredFrame | None:
        """Block up to ``timeout`` seconds for a frame with ``serial > newer_than``; returns it,
        or None on timeout or when the source fails meanwhile."""
        return self._wait(source, lambda stored: stored.serial > newer_than, timeout)

    def wait_for_controls(self, source: str, generation: int,
                          timeout: float) -> StoredFrame | None:
        """Block up to ``timeout`` seconds for a frame whose record shows the controls of
        ``generation`` or later (``Frame.controls``); returns it, or None on timeout or when
        the source fails meanwhile."""
        return self._wait(source, lambda stored: stored.frame.controls.generation >= generation,
                          timeout)

    def _wait(self, source: str, accept: Callable[[StoredFrame], bool],
              timeout: float) -> StoredFrame | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                slot = self._slots.get(source)
                if slot is not None and slot.latest is not None and accept(slot.latest):
                    return slot.latest
                if slot is not None and slot.withdrawn:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
