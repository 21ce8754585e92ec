"""TimeSyncService: the NTP-like exchange the SDK uses to learn the robot's clock skew.

Each client gets a clock identifier. Every request carries the previous round trip
(client_tx, server_rx, server_tx, client_rx); the server estimates round-trip time and skew
from it and reports the best (lowest round-trip) estimate once it has enough samples.
"""

from __future__ import annotations

import threading
import uuid
from typing import Dict, List, Tuple

from bosdyn.api import time_sync_pb2, time_sync_service_pb2_grpc

from robot_sim.clock import timestamp_to_nsec
from robot_sim.headers import responds
from robot_sim.services.base import SimServicer

SAMPLES_NEEDED = 3
MAX_CLIENTS = 1000
State = time_sync_pb2.TimeSyncState


def estimate(round_trip: time_sync_pb2.TimeSyncRoundTrip) -> Tuple[int, int]:
    """(round_trip_nsec, skew_nsec) of one exchange; skew = robot clock - client clock."""
    client_tx = timestamp_to_nsec(round_trip.client_tx)
    server_rx = timestamp_to_nsec(round_trip.server_rx)
    server_tx = timestamp_to_nsec(round_trip.server_tx)
    client_rx = timestamp_to_nsec(round_trip.client_rx)
    rtt = (client_rx - client_tx) - (server_tx - server_rx)
    skew = ((server_rx - client_tx) + (server_tx - client_rx)) // 2
    return rtt, skew


class TimeSyncServicer(SimServicer, time_sync_service_pb2_grpc.TimeSyncServiceServicer):
    """Keeps per-client samples and answers with the best estimate."""

    def __init__(self, state) -> None:
        super().__init__(state)
        self._lock = threading.Lock()
        self._samples: Dict[str, List[Tuple[int, int]]] = {}

    @responds(time_sync_pb2.TimeSyncUpdateResponse)
    def TimeSyncUpdate(self, request, context):
        response = time_sync_pb2.TimeSyncUpdateResponse()
        clock_id = request.clock_identifier
        with self._lock:
            if clock_id not in self._samples:  # new client, or one forgotten: start afresh
                clock_id = uuid.uuid4().hex
                if len(self._samples) >= MAX_CLIENTS:
                    self._samples.pop(next(iter(self._samples)))
                self._samples[clock_id] = []
            samples = self._samples[clock_id]
            if request.HasField("previous_round_trip"):
                sample = estimate(request.previous_round_trip)
                samples.append(sample)
                del samples[:-50]
                _fill_estimate(response.previous_estimate, sample)
            best = min(samples) if samples else None
            enough = len(samples) >= SAMPLES_NEEDED
        response.clock_identifier = clock_id
        response.state.measurement_time.CopyFrom(self.clock.now_timestamp())
        if best is not None:
            _fill_estimate(response.state.best_estimate, best)
        response.state.status = State.STATUS_OK if enough else State.STATUS_MORE_SAMPLES_NEEDED
        return response


def _fill_estimate(target: time_sync_pb2.TimeSyncEstimate, sample: Tuple[int, int]) -> None:
    rtt, skew = sample
    target.round_trip_time.FromNanoseconds(max(0, rtt))
    target.clock_skew.FromNanoseconds(skew)

