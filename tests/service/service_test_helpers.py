"""Helpers shared by the camera service tests (imported by name: ``conftest`` is not a safe
module name to import from, since every test folder has one)."""

from __future__ import annotations

import time
from concurrent import futures
from typing import List

import grpc
from bosdyn.api import image_service_pb2_grpc
from camera_service.backoff import Backoff
from camera_service.imaging.servicer import ImageServicer
from camera_service.pipeline.capture import CaptureThread
from camera_service.pipeline.frame_store import FrameStore
from camera_service.pipeline.output_cache import OutputCache
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings


def wait_for(predicate, timeout=10.0, interval=0.02):
    """Poll until ``predicate()`` is truthy; fails the test on timeout. Returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)


def synthetic(name="cam", width=64, height=48, fps=50, jpeg_quality=75, **options):
    return create_source("synthetic", SourceSettings(name, width=width, height=height, fps=fps,
                                                     jpeg_quality=jpeg_quality,
                                                     options=options))


class LocalImageService:
    """Captures + servicer on a real gRPC server on loopback; ``stub`` talks to it."""

    def __init__(self, sources, encode_cache=True, budget=None, cache=None) -> None:
        self.sources = {source.name: source for source in sources}
        self.store = FrameStore()
        self.cache = cache or OutputCache(enabled=encode_cache)
        self.captures: List[CaptureThread] = [
            CaptureThread(source, self.store, backoff=Backoff(initial=0.02, maximum=0.1))
            for source in sources]
        self.servicer = ImageServicer(self.captures, self.store, self.cache,
                                      first_frame_timeout=2.0, budget=budget)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        image_service_pb2_grpc.add_ImageServiceServicer_to_server(self.servicer, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = image_service_pb2_grpc.ImageServiceStub(self.channel)

    def start(self) -> LocalImageService:
        for capture in self.captures:
            capture.start()
        self.server.start()
        for capture in self.captures:
            if not getattr(self.sources[capture.name], "failing", False):
                wait_for(lambda name=capture.name: self.store.latest(name))
        return self

    def stop(self) -> None:
        self.channel.close()
        self.server.stop(0)
        for capture in self.captures:
            capture.stop()
