"""Which control values the frames of one camera show: the per-frame record.

``ControlRecords`` belongs to one capture thread. A client's control change, once the
driver accepted it, is given the next generation (``changed``); the frames the camera had
queued in its driver before (``queued``, from ``CameraSource.queued_frames``) still show
the old values, so the change is in the record only from the frame after those. A read
under way when the change was accepted does not count toward the drain: it may return a
picture taken before the change. The record is conservative: a frame may show a change
its record does not carry yet, never the other way round.

The capture thread brackets each read: ``ticket = read_started()``, read, then
``record = read_done(ticket)``, the ``ControlRecord`` to stamp on that frame.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from types import MappingProxyType
from typing import Deque, Dict, Mapping, Sequence

from camera_service.sources.base import NO_RECORD, Control, ControlRecord, ControlValue


@dataclass
class _Pending:
    """A change accepted by the driver that frames do not show yet."""

    generation: int
    values: Mapping[str, ControlValue]
    ticket: int  # reads started with a ticket at or past this count toward the drain
    remaining: int  # frames still to come from before the change


class ControlRecords:
    """The controls generation and values of one camera's frames (see the module doc)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._record = NO_RECORD
        self._issued = 0  # the newest generation given to a change
        self._queued = 0
        self._pending: Deque[_Pending] = deque()

    @property
    def issued(self) -> int:
        """The generation a frame's record must show to reflect every change so far."""
        with self._lock:
            return self._issued

    def opened(self, controls: Sequence[Control], queued: int) -> None:
        """Capture thread, after an open: the open applied every change so far (a source
        re-applies its settings when it opens), the camera reads ``controls`` now and keeps
        up to ``queued`` frames in its driver."""
        with self._lock:
            self._pending.clear()
            self._queued = max(0, queued)
            self._record = ControlRecord(self._issued, MappingProxyType(
                {control.name: control.value for control in controls}))

    def changed(self, values: Mapping[str, ControlValue]) -> int:
        """Any thread, once the driver accepted ``values``: the generation frames will
        show them under."""
        with self._lock:
            self._issued += 1
            self._pending.append(_Pending(self._issued, dict(values), self._issued,
                                          self._queued))
            return self._issued

    def read_started(self) -> int:
        """Capture thread, before a read: its ticket (the changes accepted so far)."""
        with self._lock:
            return self._issued

    def read_done(self, ticket: int) -> ControlRecord:
        """Capture thread, after the read begun with ``ticket`` returned a frame: that
        frame's record."""
        with self._lock:
            for pending in self._pending:
                if pending.ticket <= ticket:
                    pending.remaining -= 1
            values: Dict[str, ControlValue] | None = None
            while self._pending and self._pending[0].remaining < 0:
                shown = self._pending.popleft()
                values = {**(values or self._record.values), **shown.values}
                self._record = ControlRecord(shown.generation, MappingProxyType(values))
            return self._record
