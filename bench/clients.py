"""GetImage clients that poll as fast as the service answers (or at a fixed rate, as the
tablet does), and what they observed.

Two ways in: ``DirectClient`` (a raw ``ImageServiceStub`` on its own loopback channel to the
service) and ``RoutedClient`` (the SDK's ``ImageClient`` through the robot simulator, which
forwards the call to the registered service as the robot does). ``run_clients`` runs N of
them at once for a fixed time and returns one ``Observation`` per client.
``sdk_default_request`` is what SDK clients send unless told otherwise.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Sequence

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.image import build_image_request

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CALL_TIMEOUT = 10.0


def jpeg_request(source: str, quality: int) -> image_pb2.ImageRequest:
    """What the tablet asks for: JPEG at ``quality``, full size."""
    return image_pb2.ImageRequest(image_source_name=source, quality_percent=quality,
                                  image_format=image_pb2.Image.FORMAT_JPEG)


def sdk_default_request(source: str) -> image_pb2.ImageRequest:
    """The SDK's ``build_image_request(source)`` with its defaults (quality 75, full size,
    format left to the service: JPEG here), as the tablet and Data Acquisition send it."""
    return build_image_request(source)


@dataclass
class Observation:
    """One client's calls in the measured window: latency (s), image age (s), frame ids."""

    latencies: List[float] = field(default_factory=list)
    ages: List[float] = field(default_factory=list)
    frames: set = field(default_factory=set)
    errors: int = 0

    def record(self, started: float, response: image_pb2.ImageResponse) -> None:
        received = time.time()
        self.latencies.append(time.perf_counter() - started)
        if response.status != image_pb2.ImageResponse.STATUS_OK:
            self.errors += 1
            return
        stamp = response.shot.acquisition_time
        self.frames.add((stamp.seconds, stamp.nanos))
        self.ages.append(received - (stamp.seconds + stamp.nanos / 1e9))


class DirectClient:
    """GetImage straight to the service on ``127.0.0.1:port``."""

    def __init__(self, port: int, request: image_pb2.ImageRequest) -> None:
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        self._stub = image_service_pb2_grpc.ImageServiceStub(self._channel)
        self._request = image_pb2.GetImageRequest(image_requests=[request])

    def get(self) -> image_pb2.ImageResponse:
        return self._stub.GetImage(self._request, timeout=CALL_TIMEOUT).image_responses[0]

    def close(self) -> None:
        self._channel.close()


class RoutedClient:
    """GetImage with the SDK's ``ImageClient`` through the robot (simulator) routing."""

    def __init__(self, robot_sim, service_name: str, request: image_pb2.ImageRequest) -> None:
        robot = robot_sim.sdk_robot(name="bench")
        robot.sync_with_directory()
        self._client = robot.ensure_client(service_name)
        self._request = request

    def get(self) -> image_pb2.ImageResponse:
        return self._client.get_image([self._request], timeout=CALL_TIMEOUT)[0]

    def close(self) -> None:
        pass


def run_clients(make_client: Callable[[], object], count: int, seconds: float,
                on_start: Callable[[], None] = lambda: None,
                on_end: Callable[[], None] = lambda: None,
                rate: float | None = None) -> List[Observation]:
    """Run ``count`` clients polling for ``seconds``; ``on_start``/``on_end`` are called right
    before the clients start and right after all have stopped (measurement hooks).

    ``rate`` None: closed loop (next request as soon as the answer arrives). Else each client
    sends ``rate`` requests per second on a fixed schedule, the clients' schedules spread
    evenly over one period; a late answer skips the slots it missed (no catch-up burst).
    """
    clients = [make_client() for _ in range(count)]
    for client in clients:
        client.get()  # connect and warm up outside the measured window
    observations = [Observation() for _ in clients]
    barrier = threading.Barrier(count + 1)
    stop_at: List[float] = []

    def poll(index: int, client, observation: Observation) -> None:
        barrier.wait()
        period = 1.0 / rate if rate else 0.0
        due = time.monotonic() + index * period / count
        while time.monotonic() < stop_at[0]:
            if rate:
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                due += period
                behind = time.monotonic() - due
                if behind > 0:  # answers came late: skip the missed slots
                    due += math.ceil(behind / period) * period
                if time.monotonic() >= stop_at[0]:
                    break
            started = time.perf_counter()
            try:
                response = client.get()
            except Exception:
                observation.errors += 1
                continue
            observation.record(started, response)

    threads = [threading.Thread(target=poll, args=(index, *pair), daemon=True)
               for index, pair in enumerate(zip(clients, observations))]
    for thread in threads:
        thread.start()
    on_start()
    stop_at.append(time.monotonic() + seconds)
    barrier.wait()
    for thread in threads:
        thread.join(seconds + CALL_TIMEOUT + 5)
    on_end()
    for client in clients:
        client.close()
    return observations


def merged(observations: Sequence[Observation]) -> Observation:
    """All clients' latencies and ages together (frames stay per client: see ``Run``)."""
    total = Observation()
    for observation in observations:
        total.latencies.extend(observation.latencies)
        total.ages.extend(observation.ages)
        total.errors += observation.errors
    return total
