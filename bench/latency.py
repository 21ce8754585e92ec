"""Glass-to-client latency: how old the picture is when a client has it.

Camera: the clock camera (``fake_cameras.clock_camera``, its own process), HTTP MJPEG at
1280x720, 30 frames/s, JPEG quality 90; each frame shows the wall-clock time it is sent
(``fake_cameras.time_stamp``). The service reads it through its ``url`` source. Clients, in
this process, each on its own gRPC channel straight to the service's port, send the SDK's
``build_image_request(source)`` with its defaults (JPEG quality 75, full size):
- *tablet*: 2 clients x 30 GetImage/s on a fixed schedule;
- *saturation*: 4 clients flat out (closed loop).

Every answer's receive time (wall clock, taken as the call returns) is kept with its frame;
after the window, every distinct JPEG the clients received is decoded once and its stamp
read. Latency of an answer = receive time - the stamp. Figures (answers of all ``repeats``
windows pooled): median and p95 of that; *first* = the same for the first answer carrying
each frame (what the pipeline adds, without the wait for the next request); *acquisition*
= the service's ``acquisition_time`` - the stamp (robot clock = local clock here: the
simulator runs with no skew).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from bosdyn.api import image_pb2

from bench.clients import DirectClient, run_clients, sdk_default_request
from bench.configs import SERVICE_MODULE, service_config
from bench.measure import percentile
from bench.processes import ClockCameraProcess, ServiceProcess
from bench.tablet import (
    CAMERA_QUALITY,
    FPS,
    SATURATION_CLIENTS,
    SIZE,
    SOURCE_NAME,
    TABLET_CLIENTS,
    TABLET_RATE,
)
from fake_cameras.time_stamp import read_stamp

# The "done when" bounds: p50 glass-to-client latency, ms.
MAX_P50_MS = {"tablet": 30.0, "saturation": 50.0}
LOADS = {"tablet": (TABLET_CLIENTS, TABLET_RATE), "saturation": (SATURATION_CLIENTS, None)}

FrameKey = Tuple[int, int, int]  # acquisition_time seconds, nanos; JPEG length


@dataclass
class Answer:
    """One OK answer: which frame, when it was received (wall clock, s)."""

    frame: FrameKey
    received: float


class Received:
    """What the clients of one window got: every OK answer, and one copy of each distinct
    frame's JPEG. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers: List[Answer] = []
        self.jpegs: Dict[FrameKey, bytes] = {}

    def add(self, response: image_pb2.ImageResponse, received: float) -> None:
        """Keep an OK answer (the clients count the others as errors)."""
        if response.status != image_pb2.ImageResponse.STATUS_OK:
            return
        stamp, data = response.shot.acquisition_time, response.shot.image.data
        key = (stamp.seconds, stamp.nanos, len(data))
        with self._lock:
            self.answers.append(Answer(key, received))
            self.jpegs.setdefault(key, data)

    def clear(self) -> None:
        with self._lock:
            self.answers.clear()
            self.jpegs.clear()


class StampClient:
    """A ``DirectClient`` whose answers go to ``received`` with their receive time."""

    def __init__(self, port: int, received: Received) -> None:
        self._client = DirectClient(port, sdk_default_request(SOURCE_NAME))
        self._received = received

    def get(self) -> image_pb2.ImageResponse:
        response = self._client.get()
        self._received.add(response, time.time())
        return response

    def close(self) -> None:
        self._client.close()


def stamp_of(jpeg: bytes) -> Optional[int]:
    """The time stamp (us) in a JPEG, or ``None`` if it does not decode or holds none."""
    try:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    except cv2.error:  # e.g. no bytes at all
        return None
    return None if image is None else read_stamp(image)


@dataclass
class Latency:
    """Pooled figures of one load (see module doc); ms unless named otherwise."""

    answers: int
    frames: int
    unreadable: int  # distinct frames whose stamp did not read
    errors: int
    p50_ms: float
    p95_ms: float
    first_p50_ms: float
    first_p95_ms: float
    acquisition_p50_ms: float
    acquisition_p95_ms: float


def figures(answers: Sequence[Answer], stamps: Dict[FrameKey, Optional[int]],
            errors: int) -> Latency:
    """The figures of ``answers`` given each frame's stamp (us; ``None``: unreadable)."""
    latencies: List[float] = []
    first: Dict[FrameKey, float] = {}
    for answer in answers:
        stamp = stamps.get(answer.frame)
        if stamp is None:
            continue
        latency = (answer.received - stamp / 1e6) * 1000
        latencies.append(latency)
        first[answer.frame] = min(latency, first.get(answer.frame, latency))
    acquisition = [(key[0] + key[1] / 1e9 - stamp / 1e6) * 1000
                   for key, stamp in stamps.items() if stamp is not None]
    firsts = list(first.values())
    return Latency(
        answers=len(answers), frames=len(stamps),
        unreadable=sum(stamp is None for stamp in stamps.values()), errors=errors,
        p50_ms=percentile(latencies, 0.5), p95_ms=percentile(latencies, 0.95),
        first_p50_ms=percentile(firsts, 0.5), first_p95_ms=percentile(firsts, 0.95),
        acquisition_p50_ms=percentile(acquisition, 0.5),
        acquisition_p95_ms=percentile(acquisition, 0.95))


@dataclass
class LatencyResults:
    """Per load (``LOADS``) its ``Latency``; the camera's own account of its sending; the
    machine's 1-minute load average before and after the windows (the camera, the service
    and the clients share the machine with whatever else runs)."""

    loads: Dict[str, Latency]
    camera: str
    repeats: int
    seconds: float
    load_average: Tuple[float, float] = (float("nan"), float("nan"))

    def verdicts(self) -> List[tuple]:
        """(what, measured p50 ms, bound, passed) for each load."""
        return [(f"{name}: glass-to-client p50 (ms)", self.loads[name].p50_ms,
                 f"<= {bound:g}", self.loads[name].p50_ms <= bound)
                for name, bound in MAX_P50_MS.items() if name in self.loads]


def measure_window(port: int, clients: int, seconds: float, rate: Optional[float],
                   pooled: Received) -> int:
    """One window of ``clients`` against ``port``; its answers are added to ``pooled``.
    Returns the calls that failed or were not answered OK."""
    window = Received()
    observations = run_clients(lambda: StampClient(port, window), clients, seconds,
                               on_start=window.clear, rate=rate)
    pooled.answers.extend(window.answers)
    for key, data in window.jpegs.items():
        pooled.jpegs.setdefault(key, data)
    return sum(observation.errors for observation in observations)


def run_latency(sim, seconds: float, repeats: int,
                log: Callable[[str], None] = print) -> LatencyResults:
    """Start the clock camera and the service; measure each load ``repeats`` times."""
    with ClockCameraProcess(*SIZE, FPS, CAMERA_QUALITY) as camera:
        source = {"name": SOURCE_NAME, "type": "url", "url": camera.url}
        with ServiceProcess(service_config(sim, "latency-service", source),
                            module=SERVICE_MODULE) as service:
            sim.wait_for_service("latency-service", timeout=30)
            time.sleep(1.0)  # capture settles, time sync done
            before = os.getloadavg()[0]
            pooled = {name: Received() for name in LOADS}
            errors = dict.fromkeys(LOADS, 0)
            for _ in range(repeats):
                for name, (clients, rate) in LOADS.items():
                    errors[name] += measure_window(service.port, clients, seconds, rate,
                                                   pooled[name])
            after = os.getloadavg()[0]
    loads = {}
    for name, received in pooled.items():
        stamps = {key: stamp_of(data) for key, data in received.jpegs.items()}
        loads[name] = figures(received.answers, stamps, errors[name])
        run = loads[name]
        log(f"    {name}: {run.answers} answers, {run.frames} frames, glass-to-client p50 "
            f"{run.p50_ms:.1f} ms, p95 {run.p95_ms:.1f} ms")
    log(f"  camera: {camera.summary}")
    return LatencyResults(loads, camera.summary, repeats, seconds, (before, after))
