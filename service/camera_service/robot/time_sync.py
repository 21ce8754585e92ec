"""Local clock -> robot clock, for acquisition timestamps.

``RobotClock`` wraps the SDK's ``TimeSyncEndpoint``. ``RobotLink`` calls ``update`` on every
round, with a time budget: the SDK's endpoint sends its requests without a deadline (the SDK
default is far longer than a keep-alive period), so here every request carries what is left
of the budget, and a stalled robot costs at most that. ``robot_timestamp`` is called from RPC
threads. Until a sync is established (robot not reachable yet) timestamps are local time,
i.e. skew assumed zero; once established, a failing update keeps the last estimate.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from bosdyn.client.exceptions import Error as SdkError
from bosdyn.client.time_sync import NotEstablishedError, TimeSyncClient, TimeSyncEndpoint
from google.protobuf.timestamp_pb2 import Timestamp

_LOG = logging.getLogger(__name__)
ESTABLISH_SAMPLES = 5  # round trips tried when establishing, within one budget


class TimeSyncOutOfTime(SdkError):
    """Time sync could not be established within the round's budget."""


class _DeadlinedClient:
    """A ``TimeSyncClient`` whose requests carry ``timeout`` (set before each request)."""

    def __init__(self, client: TimeSyncClient) -> None:
        self._client = client
        self.timeout = 1.0

    def get_time_sync_update(self, *args, **kwargs):
        return self._client.get_time_sync_update(*args, timeout=self.timeout, **kwargs)


class RobotClock:
    """Thread-safe converter from local wall-clock seconds to robot-time ``Timestamp``s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoint: TimeSyncEndpoint | None = None
        self._deadlined: _DeadlinedClient | None = None  # the endpoint's client
        self._warned = False

    @property
    def established(self) -> bool:
        with self._lock:
            return self._endpoint is not None and self._endpoint.has_established_time_sync

    def update(self, client: TimeSyncClient, budget: float,
               stopping: Callable[[], bool] = lambda: False) -> None:
        """One round of time sync within ``budget`` seconds: one estimate, or (not yet
        established) up to ``ESTABLISH_SAMPLES`` round trips until established, ``stopping``
        checked before each. Raises the SDK's errors (a request past the budget as its
        timeout error, ``TimeSyncOutOfTime`` when the budget ran out between requests)."""
        deadline = time.monotonic() + budget
        with self._lock:
            endpoint, deadlined = self._endpoint, self._deadlined
        establishing = endpoint is None or not endpoint.has_established_time_sync
        if endpoint is None or establishing or deadlined is None:
            deadlined = _DeadlinedClient(client)
            endpoint = TimeSyncEndpoint(deadlined)
        for _ in range(ESTABLISH_SAMPLES if establishing else 1):
            if stopping():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeSyncOutOfTime(f"no time sync answer within {budget:.1f} s")
            deadlined.timeout = remaining
            endpoint.get_new_estimate()
            if establishing and endpoint.has_established_time_sync:
                _LOG.info("time sync with the robot established (skew %s)", _skew_text(endpoint))
                with self._lock:
                    self._endpoint, self._deadlined = endpoint, deadlined
                return
        if establishing:
            raise TimeSyncOutOfTime(f"not established after {ESTABLISH_SAMPLES} round trips")

    def reset(self) -> None:
        """The robot went away (maybe rebooted, with a new clock): sync again from scratch."""
        with self._lock:
            self._endpoint = self._deadlined = None

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
