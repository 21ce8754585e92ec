"""One background capture thread per source, reading at the camera's own rate.

The thread opens the source (retrying with backoff while it is unavailable), reads frames
into the ``FrameStore`` and, when the source stops delivering, closes and reopens it. A
failure is logged once; retries are quiet (debug); recovery is logged once. State changes go
to a listener (the fault reporter) so a dead camera raises a robot fault and a recovered one
clears it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from camera_service.backoff import Backoff
from camera_service.errors import SourceError, SourceUnavailable
from camera_service.pipeline.frame_store import FrameStore
from camera_service.sources.base import CameraSource, SourceInfo

_LOG = logging.getLogger(__name__)

# listener(source_name, failure_reason_or_None): called on every change healthy <-> failing.
StateListener = Callable[[str, Optional[str]], None]


class CaptureThread:
    """Owns ``source``: the only caller of its ``open``/``read``/``close``.

    ``start()`` launches the daemon thread; ``stop(timeout)`` asks it to end, closes the
    source and joins. ``info`` is what the open source delivers (None until first opened).
    ``frames_captured`` counts frames put into the store.
    """

    def __init__(self, source: CameraSource, store: FrameStore,
                 listener: StateListener | None = None, backoff: Backoff | None = None) -> None:
        self.source = source
        self.store = store
        self.info: SourceInfo | None = None
        self.frames_captured = 0
        self._listener = listener
        self._backoff = backoff or Backoff(initial=0.5, maximum=10.0)
        self._stopping = threading.Event()
        self._failure: str | None = None
        self._state_lock = threading.Lock()
        self._last_frame_at: float | None = None  # time.monotonic() of the latest frame
        self._thread = threading.Thread(target=self._run, name=f"capture-{source.name}",
                                        daemon=True)

    @property
    def name(self) -> str:
        return self.source.name

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End capture; returns within ``timeout`` even if the source's read hangs."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            _LOG.warning("camera %r did not stop within %.1f s; leaving it", self.name, timeout)

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._open():
                continue
            self._read_until_error()
            self._safe_close()
            self._stopping.wait(self._backoff.next_delay())

    def _open(self) -> bool:
        try:
            info = self.source.open()
        except Exception as err:  # SourceUnavailable, or an unexpected library error
            self._safe_close()
            what = ("unavailable" if isinstance(err, SourceUnavailable)
                    else f"failed to open ({type(err).__name__})")
            self._report_failure(f"camera {self.name!r} {what}: {err}")
            self._stopping.wait(self._backoff.next_delay())
            return False
        self.info = info
        self._last_frame_at = time.monotonic()  # the watchdog counts from the open
        # While failing, reopening is part of the quiet retries; recovery is logged on the
        # first frame.
        level = logging.DEBUG if self._failure is not None else logging.INFO
        _LOG.log(level, "camera %r open: %s", self.name, info.detail or self.source.describe())
        return True

    def _read_until_error(self) -> None:
        while not self._stopping.is_set():
            try:
                frame = self.source.read()
            except Exception as err:  # SourceError, or an unexpected library error
                what = ("stopped delivering" if isinstance(err, SourceError)
                        else f"read failed ({type(err).__name__})")
                self._report_failure(f"camera {self.name!r} {what}: {err}")
                return
            if self._stopping.is_set():
                return
            self.store.put(self.name, frame)
            self.frames_captured += 1
            self._last_frame_at = time.monotonic()
            if self._failure is not None or self._backoff.failures:
                self._report_recovery()

    def check_stall(self, stall_after: float) -> bool:
        """Watchdog, called from another thread: if the open camera has delivered nothing for
        ``stall_after`` seconds (or 10 frame periods, if longer) while its ``read`` still
        blocks, report it failing (the next frame reports recovery). Returns True if stalled."""
        last = self._last_frame_at
        if last is None or self._failure is not None or self._stopping.is_set():
            return False
        period = 1.0 / self.info.fps if self.info is not None and self.info.fps > 0 else 0.0
        silent = time.monotonic() - last
        if silent < max(stall_after, 10 * period):
            return False
        self._report_failure(f"camera {self.name!r} delivered no frame for {silent:.1f} s")
        return True

    def _safe_close(self) -> None:
        try:
            self.source.close()
        except Exception as err:
            _LOG.debug("camera %r close failed: %s", self.name, err)

    # -- state changes -------------------------------------------------------------------
    def _report_failure(self, reason: str) -> None:
        self.store.mark_failed(self.name, reason)
        with self._state_lock:
            first = self._failure is None
            self._failure = reason
        if first:
            _LOG.warning("%s; retrying in the background", reason)
            self._notify(reason)
        else:
            _LOG.debug("%s (retry %d)", reason, self._backoff.failures)

    def _report_recovery(self) -> None:
        with self._state_lock:
            recovered = self._failure is not None
            self._failure = None
        if recovered:
            _LOG.info("camera %r delivering again", self.name)
            self._notify(None)
        self._backoff.reset()

    def _notify(self, reason: str | None) -> None:
        if self._listener is None:
            return
        try:
            self._listener(self.name, reason)
        except Exception:
            _LOG.exception("state listener failed for camera %r", self.name)

