"""One background capture thread per source, reading at the camera's own rate.

The thread opens the source (retrying with backoff while it is unavailable), reads frames
into the ``FrameStore`` and, when the source stops delivering, closes and reopens it. A
failure is logged once; retries are quiet (debug); recovery is logged once (a camera that
keeps flapping: a few lines and a summary a minute, ``state_log``). The camera's
state (open generation, granted info, control spec, failure) lives in its ``CameraState``,
which this thread owns; every change healthy <-> failing goes to a listener (the service
wakes its robot link, whose fault reporter reads the states). Every frame stored carries its
record of the controls in effect (``Frame.controls``, ``control_records``): a client that
changed a control waits for the first frame whose record shows the change
(``FrameStore.wait_for_controls`` with the generation ``set_control`` returned).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Callable, Sequence, Tuple

from camera_service.capture.camera_state import CameraState, CameraStatus
from camera_service.capture.control_records import ControlRecords
from camera_service.capture.frame_hygiene import FrameHygiene
from camera_service.capture.frame_store import FrameStore
from camera_service.capture.state_log import StateLog
from camera_service.core.backoff import Backoff
from camera_service.core.errors import CredentialsRefused, SourceError, SourceUnavailable
from camera_service.sources.base import CameraSource, Control, ControlValue, SourceSettings

_LOG = logging.getLogger(__name__)
REFUSED_RETRY_SECONDS = 15.0  # a camera refusing the credentials: as a robot login (robot.
REFUSED_RETRY_MAX_SECONDS = 300.0  # login_backoff), never every second (account lockout)

# listener(status): called on every change healthy <-> failing, with the new snapshot.
StateListener = Callable[[CameraStatus], None]


class CaptureThread:
    """Owns ``source``: the only caller of its ``open``/``read``/``close``.

    ``start()`` launches the daemon thread; ``stop(timeout)`` asks it to end, closes the
    source and joins. ``state`` is the camera's ``CameraState``. The camera's controls are
    reachable through ``controls``/``set_control`` (thread-safe per the source contract), so
    readers never touch the source itself. Every frame read passes ``hygiene`` (checks,
    normalization; ``hygiene.counts()``) before it is stored.
    """

    def __init__(self, source: CameraSource, store: FrameStore,
                 listener: StateListener | None = None, backoff: Backoff | None = None,
                 hygiene: FrameHygiene | None = None) -> None:
        self._source = source
        self.store = store
        self.state = CameraState(source.name)
        self.hygiene = hygiene or FrameHygiene(source.name)
        self._listener = listener
        self._records = ControlRecords()
        self._state_log = StateLog(source.name)
        self._backoff = backoff or Backoff(initial=0.5, maximum=10.0)
        self.refused_backoff = Backoff(initial=REFUSED_RETRY_SECONDS,
                                       maximum=REFUSED_RETRY_MAX_SECONDS)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture-{source.name}",
                                        daemon=True)

    @property
    def name(self) -> str:
        return self._source.name

    @property
    def kind(self) -> str:
        """The source's kind (``v4l2``, ``synthetic`` ...)."""
        return self._source.kind

    @property
    def settings(self) -> SourceSettings:
        """The source's configured settings (read-only by convention)."""
        return self._source.settings

    def describe(self) -> str:
        """Where the camera is (device, URL, file), for logs and the settings page."""
        return self._source.describe()

    @property
    def jpeg_quality(self) -> int:
        """The configured default JPEG quality of this camera."""
        return self._source.settings.jpeg_quality

    @property
    def jpeg_passthrough(self) -> str:
        """This camera's passthrough policy (``pipeline.passthrough``)."""
        return self._source.settings.jpeg_passthrough

    @property
    def frames_captured(self) -> int:
        return self.state.status().frames

    def expected_size(self) -> Tuple[int, int]:
        """(width, height) to list before the camera has ever opened."""
        return self._source.expected_size()

    def controls(self) -> Sequence[Control]:
        """The camera's controls with their current values."""
        return self._source.controls()

    def set_control(self, name: str, value: ControlValue) -> int:
        """Apply one camera setting (see ``CameraSource.set_control``); returns the controls
        generation of the first frames that show it (``Frame.controls.generation``)."""
        self._source.set_control(name, value)
        return self._records.changed({name: value})

    @property
    def controls_issued(self) -> int:
        """The controls generation a frame must show to reflect every change made so far."""
        return self._records.issued

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
            info = self._source.open()
            controls = tuple(self._source.controls())
            self.hygiene.start(info)  # may refuse the source (e.g. frames over the budget)
        except Exception as err:  # SourceUnavailable, or an unexpected library error
            self._safe_close()
            what = ("unavailable" if isinstance(err, SourceUnavailable)
                    else f"failed to open ({type(err).__name__})")
            if isinstance(err, CredentialsRefused):
                delay = self.refused_backoff.next_delay()
                self._report_failure(f"camera {self.name!r} {what}: {err}; next attempt in "
                                     f"{delay:.0f} s, then at growing intervals (wrong "
                                     "credentials retried quickly lock camera accounts)")
            else:
                delay = self._backoff.next_delay()
                self._report_failure(f"camera {self.name!r} {what}: {err}")
            self._stopping.wait(delay)
            return False
        self.refused_backoff.reset()
        failing = self.state.status().failure is not None
        self.state.opened(info, controls)
        self._records.opened(controls, self._source.queued_frames())
        # While failing, reopening is part of the quiet retries; recovery is logged on the
        # first frame.
        _LOG.log(logging.DEBUG if failing else logging.INFO, "camera %r open: %s", self.name,
                 info.detail or self._source.describe())
        return True

    def _read_until_error(self) -> None:
        while not self._stopping.is_set():
            ticket = self._records.read_started()
            try:
                frame = self._source.read()
            except Exception as err:  # SourceError, or an unexpected library error
                what = ("stopped delivering" if isinstance(err, SourceError)
                        else f"read failed ({type(err).__name__})")
                self._report_failure(f"camera {self.name!r} {what}: {err}")
                return
            if self._stopping.is_set():
                return
            record = self._records.read_done(ticket)
            try:
                admitted = self.hygiene.admit(frame)
            except SourceError as err:  # only unusable frames, or a check failed the camera
                self._report_failure(str(err))
                return
            if admitted is None:
                continue
            self.store.put(self.name, dataclasses.replace(admitted, controls=record))
            if self.state.delivered(size=(admitted.width, admitted.height)):
                self._state_log.recovered()
                self._notify()
            self._state_log.tick()
            self._backoff.reset()

    def check_stall(self, stall_after: float, now: float | None = None) -> bool:
        """Watchdog, called from another thread: if the open camera has delivered nothing for
        ``stall_after`` seconds (or 10 frame periods, if longer) at ``now`` (default: the
        monotonic clock) while its ``read`` still blocks, report it failing (the next frame
        reports recovery). Returns True if stalled."""
        if self._stopping.is_set():
            return False
        reason = self.state.stalled(stall_after, now)
        if reason is None:
            return False
        self.store.withdraw(self.name)
        self._state_log.failed(reason)
        self._notify()
        return True

    def _safe_close(self) -> None:
        try:
            self._source.close()
        except Exception as err:
            _LOG.debug("camera %r close failed: %s", self.name, err)

    # -- state changes -------------------------------------------------------------------
    def _report_failure(self, reason: str) -> None:
        first = self.state.failed(reason)
        self.store.withdraw(self.name)
        if first:
            self._state_log.failed(reason)
            self._notify()
        else:
            self._state_log.tick()
            _LOG.debug("%s (retry %d)", reason, self._backoff.failures)

    def _notify(self) -> None:
        if self._listener is None:
            return
        try:
            self._listener(self.state.status())
        except Exception:
            _LOG.exception("state listener failed for camera %r", self.name)
