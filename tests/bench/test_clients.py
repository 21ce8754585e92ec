"""Benchmark clients: the SDK's default request; paced clients never burst."""

from __future__ import annotations

import time

from bosdyn.api import image_pb2

from bench.clients import run_clients, sdk_default_request


def test_sdk_default_request_is_quality_75_full_size_format_unset():
    request = sdk_default_request("cam")
    assert (request.image_source_name, request.quality_percent) == ("cam", 75)
    assert request.image_format == image_pb2.Image.FORMAT_UNKNOWN
    assert request.resize_ratio == 0


class _CountingClient:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0

    def get(self) -> image_pb2.ImageResponse:
        self.calls += 1
        time.sleep(self.delay)
        return image_pb2.ImageResponse(status=image_pb2.ImageResponse.STATUS_OK)

    def close(self) -> None:
        pass


def test_paced_clients_stay_at_or_below_their_rate_even_after_a_slow_answer():
    made = []

    def make():
        made.append(_CountingClient(delay=0.0 if made else 0.25))  # the first one is slow
        return made[-1]

    observations = run_clients(make, 2, seconds=0.5, rate=20.0)
    for observation in observations:
        assert 1 <= len(observation.latencies) <= 0.5 * 20 + 1  # no catch-up burst
    slow = observations[0]
    assert len(slow.latencies) <= 3  # its missed slots were skipped, not made up
