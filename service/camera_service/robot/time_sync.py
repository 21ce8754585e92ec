"""Local clock -> robot clock, for acquisition timestamps.

``RobotClock`` wraps the SDK's ``TimeSyncEndpoint``. ``RobotLink`` calls ``update`` on every
round; ``robot_timestamp`` is called from RPC threads. Until a sync is established (robot not
reachable yet) timestamps are local time, i.e. skew assumed zero.
"""

from __future__ import annotations

import logging
import threading

from bosdyn.client.time_sync import NotEstablishedError, TimeSyncClient, TimeSyncEndpoint
from google.protobuf.timestamp_pb2 import Timestamp

_LOG = logging.getLogger(__name__)


class RobotClock:
    """Thread-safe converter from local wall-clock seconds to robot-time ``Timestamp``s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoint: TimeSyncEndpoint | None = None
        self._warned = False

    @property
    def established(self) -> bool:
        with self._lock:
            return self._endpoint is not None and self._endpoint.has_established_time_sync

    def update(self, client: TimeSyncClient) -> None:
        """One round of time sync (establishes it first if needed). Raises SDK errors."""
        with self._lock:
            endpoint = self._endpoint
        if endpoint is None or not endpoint.has_established_time_sync:
            endpoint = TimeSyncEndpoint(client)
            if endpoint.establish_timesync(max_samples=5, break_on_success=True):
                _LOG.info("time sync with the robot established (skew %s)",
                          _skew_text(endpoint))
            with self._lock:
                self._endpoint = endpoint
        else:
            endpoint.get_new_estimate()

    def reset(self) -> None:
        """The robot went away (maybe rebooted, with a new clock): sync again from scratch."""
        with self._lock:
            self._endpoint = None

    def robot_timestamp(self, local_secs: float) -> Timestamp:
        with self._lock:
            endpoint = self._endpoint
        if endpoint is not None:
            try:
                return endpoint.robot_timestamp_from_local_secs(local_secs)
            except NotEstablishedError:
                pass
        if not self._warned:
            self._warned = True
            _LOG.debug("no time sync with the robot yet: acquisition times are local time")
        stamp = Timestamp()
        stamp.FromNanoseconds(int(local_secs * 1e9))
        return stamp


    def local_seconds(self, robot_stamp: Timestamp) -> float:
        """The inverse of ``robot_timestamp``: local wall-clock seconds of a robot time (as
        is while time sync is not established)."""
        with self._lock:
            endpoint = self._endpoint
        seconds = robot_stamp.ToNanoseconds() / 1e9
        try:
            skew = endpoint.clock_skew if endpoint is not None else None
        except NotEstablishedError:
            skew = None
        if skew is None:
            return seconds
        return seconds - (skew.seconds + skew.nanos * 1e-9)


def _skew_text(endpoint: TimeSyncEndpoint) -> str:
    skew = endpoint.clock_skew
    return f"{skew.seconds + skew.nanos * 1e-9:+.3f} s" if skew is not None else "unknown"
