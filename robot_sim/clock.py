"""The simulated robot's clock: local wall time shifted by a fixed skew.

A real robot's clock is not the client's clock; the SDK estimates the difference with the
TimeSync service and converts timestamps. The simulator keeps its clock ``skew_seconds`` ahead
of local time so that a client that forgets to convert gets visibly wrong times.
"""

from __future__ import annotations

import time

from google.protobuf import timestamp_pb2

DEFAULT_SKEW_SECONDS = 3.25


class RobotClock:
    """Robot time = local ``time.time()`` + ``skew_seconds``."""

    def __init__(self, skew_seconds: float = DEFAULT_SKEW_SECONDS) -> None:
        self.skew_nsec = round(skew_seconds * 1e9)

    def now_nsec(self) -> int:
        """Current robot time in nanoseconds since the epoch."""
        return time.time_ns() + self.skew_nsec

    def now_timestamp(self) -> timestamp_pb2.Timestamp:
        """Current robot time as a protobuf Timestamp."""
        return nsec_to_timestamp(self.now_nsec())


def nsec_to_timestamp(nsec: int) -> timestamp_pb2.Timestamp:
    """Nanoseconds since the epoch -> protobuf Timestamp."""
    return timestamp_pb2.Timestamp(seconds=nsec // 1_000_000_000, nanos=nsec % 1_000_000_000)


def timestamp_to_nsec(stamp: timestamp_pb2.Timestamp) -> int:
    """Protobuf Timestamp -> nanoseconds since the epoch."""
    return stamp.seconds * 1_000_000_000 + stamp.nanos
