"""Endurance: 100,000 GetImage calls across sources and formats against the service process.

The service runs as its own process (registered with the robot simulator, keep-alive every
0.5 s) so its RSS, thread and file-descriptor counts are its own. They are sampled after a
warm-up (every gRPC worker thread started, every output cached once) and at the end, and
must stay within the bounds below. The figures are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import itertools
import threading
import time

import grpc
import pytest
from bosdyn.api import image_pb2, image_service_pb2_grpc, service_customization_pb2
from reliability_support import MAX_MESSAGE_BYTES, config_mapping, resources, synthetic

from bench.processes import ServiceProcess
from fake_cameras.ip_camera import FakeIPCamera

CALLS = 100_000
WARMUP_CALLS = 2_000
CLIENT_THREADS = 4
RSS_GROWTH_MIB = 30.0  # bounds, end minus start
THREAD_DRIFT = 2
FD_DRIFT = 2

Image = image_pb2.Image
OK = image_pb2.ImageResponse.STATUS_OK


def _request(source, **fields):
    return image_pb2.ImageRequest(image_source_name=source, **fields)


def _custom_brightness(value):
    params = service_customization_pb2.DictParam()
    params.values["brightness"].int_value.value = value
    return params


def request_mix():
    """The GetImage requests cycled through, each with the statuses it must get."""
    jpeg, raw = Image.FORMAT_JPEG, Image.FORMAT_RAW
    resp = image_pb2.ImageResponse
    single = [
        (_request("front", image_format=jpeg, quality_percent=75), OK),  # passthrough
        (_request("front", image_format=jpeg, quality_percent=50), OK),
        (_request("front", image_format=jpeg, resize_ratio=0.5), OK),
        (_request("front", image_format=raw, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8), OK),
        (_request("raw", image_format=raw, pixel_format=Image.PIXEL_FORMAT_RGB_U8), OK),
        (_request("raw", image_format=jpeg, quality_percent=90), OK),
        (_request("grey", image_format=raw), OK),
        (_request("alpha", image_format=raw, pixel_format=Image.PIXEL_FORMAT_RGBA_U8), OK),
        (_request("ipcam", image_format=jpeg, quality_percent=75), OK),
        (_request("front", custom_params=_custom_brightness(0)), OK),  # unchanged value
        (_request("nosuchcamera"), resp.STATUS_UNKNOWN_CAMERA),
        (_request("front", resize_ratio=2.0), resp.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED),
    ]
    calls = [image_pb2.GetImageRequest(image_requests=[r]) for r, _ in single]
    expected = [[status] for _, status in single]
    calls.append(image_pb2.GetImageRequest(image_requests=[r for r, _ in single[:3]]))
    expected.append([OK, OK, OK])
    return list(zip(calls, expected))


class Soak:
    """``threads`` clients, each on its own channel, sharing a budget of ``calls`` calls."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mix = request_mix()
        self.failures = []
        self.done = 0
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def run(self, calls: int, threads: int) -> float:
        """Make ``calls`` GetImage calls; returns the seconds taken."""
        self._counter = itertools.count()
        started = time.monotonic()
        workers = [threading.Thread(target=self._client, args=(calls,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.monotonic() - started

    def _client(self, calls: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]) as channel:
            stub = image_service_pb2_grpc.ImageServiceStub(channel)
            while True:
                index = next(self._counter)
                if index >= calls:
                    return
                request, expected = self.mix[index % len(self.mix)]
                try:
                    if index % 97 == 0:
                        stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=10)
                    answer = stub.GetImage(request, timeout=10)
                    statuses = [r.status for r in answer.image_responses]
                except grpc.RpcError as err:
                    statuses = [f"rpc {err.code().name}"]
                with self._lock:
                    self.done += 1
                    if statuses != expected and len(self.failures) < 10:
                        self.failures.append((index, statuses, expected))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_100k_getimage_calls_leave_rss_threads_and_fds_bounded(robot_sim):
    with FakeIPCamera(width=320, height=240, fps=30) as camera:
        sources = [synthetic("front", 320, 240, jpeg_quality=75),
                   synthetic("raw", native_jpeg=False),
                   synthetic("grey", native_jpeg=False, pixel_format="grey"),
                   synthetic("alpha", native_jpeg=False, pixel_format="bgra"),
                   {"name": "ipcam", "type": "url", "url": camera.url}]
        with ServiceProcess(config_mapping(robot_sim, sources)) as service:
            robot_sim.wait_for_service("camera-image-service", timeout=20)
            soak = Soak(service.port)
            soak.run(WARMUP_CALLS, threads=8)  # every worker thread and output exists
            time.sleep(1.0)
            start = resources(service.process.pid)
            seconds = soak.run(CALLS, threads=CLIENT_THREADS)
            time.sleep(1.0)
            end = resources(service.process.pid)
            counters = service.counters()
            alive = service.process.poll() is None
    print(f"\nsoak: {CALLS} GetImage calls in {seconds:.0f} s ({CALLS / seconds:.0f}/s); "
          f"RSS {start['rss_mib']:.1f} -> {end['rss_mib']:.1f} MiB, threads "
          f"{start['threads']} -> {end['threads']}, fds {start['fds']} -> {end['fds']}; "
          f"service counters {counters}")
    assert alive
    assert soak.done == CALLS + WARMUP_CALLS
    assert soak.failures == []
    assert end["rss_mib"] - start["rss_mib"] < RSS_GROWTH_MIB
    assert abs(end["threads"] - start["threads"]) <= THREAD_DRIFT
    assert abs(end["fds"] - start["fds"]) <= FD_DRIFT
    assert counters["encodes"] > 0 and counters["passthroughs"] > 0 and counters["hits"] > 0
