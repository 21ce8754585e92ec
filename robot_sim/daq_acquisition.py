"""Progress of one AcquireData request, made of parts (the image captures, one per plugin).

Each part reports its status, the data it saved and its data errors; ``snapshot`` merges them
into the GetStatusResponse the robot answers:

* while any part runs: STATUS_CANCEL_IN_PROGRESS after a cancel, STATUS_SAVING when every
  running part saves, else STATUS_ACQUIRING;
* once all parts ended: STATUS_ACQUISITION_CANCELLED, STATUS_TIMEDOUT (the deadline passed),
  STATUS_INTERNAL_ERROR (a plugin failed as a whole: ``service_errors``), STATUS_DATA_ERROR
  (some data failed: ``data_errors``) or STATUS_COMPLETE, in that order of precedence.

The deadline is in robot time (nanoseconds): the acquisition's start plus the default time-out
(or the request's ``min_timeout`` if longer), pushed later by any plugin's ``timeout_deadline``.
"""

from __future__ import annotations

import threading
from typing import Dict, List

from bosdyn.api import data_acquisition_pb2 as daq

Status = daq.GetStatusResponse
_RUNNING_STATUSES = (Status.STATUS_ACQUIRING, Status.STATUS_SAVING,
                     Status.STATUS_CANCEL_IN_PROGRESS)


def is_running(status: int) -> bool:
    """True for the statuses of an acquisition (or plugin request) still under way."""
    return status in _RUNNING_STATUSES


class Acquisition:
    """Thread-safe state of one request; parts are named (``"images"``, a plugin's name)."""

    def __init__(self, request_id: int, deadline_nsec: int) -> None:
        self.request_id = request_id
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._deadline_nsec = deadline_nsec
        self._running: Dict[str, int] = {}
        self._saved: Dict[str, List[daq.DataIdentifier]] = {}
        self._errors: Dict[str, List[daq.DataError]] = {}
        self._service_errors: List[daq.PluginServiceError] = []
        self._timed_out = False
        self._wakers: List[threading.Event] = []

    # ----- parts ------------------------------------------------------------------------
    def begin_part(self, name: str) -> threading.Event:
        """Register a running part; the returned event is set when the request is cancelled."""
        waker = threading.Event()
        with self._lock:
            self._running[name] = Status.STATUS_ACQUIRING
            self._saved.setdefault(name, [])
            self._errors.setdefault(name, [])
            self._wakers.append(waker)
        return waker

    def report(self, name: str, status: int, saved, errors) -> None:
        """A part's current status and its complete lists of saved data and data errors."""
        with self._lock:
            if name in self._running:
                self._running[name] = status
            self._saved[name] = list(saved)
            self._errors[name] = list(errors)

    def add_saved(self, name: str, data_id: daq.DataIdentifier) -> None:
        with self._lock:
            self._saved[name].append(data_id)

    def add_error(self, name: str, error: daq.DataError) -> None:
        with self._lock:
            self._errors[name].append(error)

    def add_service_error(self, service_name: str, code: int, message: str) -> None:
        """A plugin failed as a whole (``PluginServiceError.ErrorCode`` ``code``)."""
        with self._lock:
            self._service_errors.append(daq.PluginServiceError(
                service_name=service_name, error=code, message=message))

    def end_part(self, name: str) -> None:
        with self._lock:
            self._running.pop(name, None)

    # ----- deadline and cancel ----------------------------------------------------------
    @property
    def deadline_nsec(self) -> int:
        with self._lock:
            return self._deadline_nsec

    def extend_deadline(self, deadline_nsec: int) -> None:
        """Push the deadline to ``deadline_nsec`` (robot time) if that is later."""
        with self._lock:
            self._deadline_nsec = max(self._deadline_nsec, deadline_nsec)

    def time_out(self) -> None:
        """Record that the deadline passed with parts still running."""
        with self._lock:
            self._timed_out = True

    def request_cancel(self) -> bool:
        """Ask the running parts to stop; False when nothing runs any more."""
        with self._lock:
            if not self._running:
                return False
            wakers = list(self._wakers)
            self.cancelled.set()
        for waker in wakers:
            waker.set()
        return True

    # ----- status -----------------------------------------------------------------------
    def status(self) -> int:
        """The merged status (see the module docstring)."""
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> int:
        if self._running:
            if self.cancelled.is_set():
                return Status.STATUS_CANCEL_IN_PROGRESS
            if all(s == Status.STATUS_SAVING for s in self._running.values()):
                return Status.STATUS_SAVING
            return Status.STATUS_ACQUIRING
        if self.cancelled.is_set():
            return Status.STATUS_ACQUISITION_CANCELLED
        if self._timed_out:
            return Status.STATUS_TIMEDOUT
        if self._service_errors:
            return Status.STATUS_INTERNAL_ERROR
        if any(self._errors.values()):
            return Status.STATUS_DATA_ERROR
        return Status.STATUS_COMPLETE

    def snapshot(self, response: daq.GetStatusResponse) -> None:
        """Fill ``response`` with the merged status, saved data and errors."""
        with self._lock:
            response.status = self._status_locked()
            for saved in self._saved.values():
                response.data_saved.extend(saved)
            for errors in self._errors.values():
                response.data_errors.extend(errors)
            response.service_errors.extend(self._service_errors)
