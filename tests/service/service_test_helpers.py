"""Helpers shared by the camera service tests (imported by name: ``conftest`` is not a safe
module name to import from, since every test folder has one)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import grpc
import yaml
from bosdyn.api import image_service_pb2_grpc, service_customization_pb2
from camera_service.app.service import CameraService, RetryTiming
from camera_service.config.model import from_mapping
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings

from devtools.polling import wait_for

# Failing cameras and robot calls are retried within a tenth of a second in tests.
QUICK_RETRY = RetryTiming(camera_initial=0.02, camera_maximum=0.1, robot_initial=0.1,
                          robot_maximum=0.5)


def dict_params(**values):
    """A ``DictParam`` of string and int values (custom parameters of a request)."""
    params = service_customization_pb2.DictParam()
    for key, value in values.items():
        entry = params.values[key]
        if isinstance(value, str):
            entry.string_value.value = value
        else:
            entry.int_value.value = value
    return params


class ManualClock:
    """A monotonic clock for policies with an injectable clock: ``now`` moves only when a
    test sets it."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def synthetic(name="cam", width=64, height=48, fps=50, jpeg_quality=75,
              jpeg_passthrough="auto", **options):
    return create_source("synthetic", SourceSettings(name, width=width, height=height, fps=fps,
                                                     jpeg_quality=jpeg_quality,
                                                     jpeg_passthrough=jpeg_passthrough,
                                                     options=options))


class LocalImageService:
    """The service's own wiring (``CameraService``) serving ``sources`` on loopback, without
    the robot link; ``stub`` talks to it. ``start(wait_for_frames=False)`` skips waiting for
    each camera's first frame (for cameras that are meant to fail). ``cache`` replaces the
    servicer's output cache (an instrumented one)."""

    def __init__(self, sources, budget=None, cache=None, **service) -> None:
        config = from_mapping({"service": {"port": 0, "bind": "127.0.0.1", **service}})
        self.service = CameraService(config, sources=sources, budget=budget,
                                     retry=QUICK_RETRY)
        if cache is not None:  # the servicer's, as the benchmark's baseline does
            self.service.servicer.cache = cache
        self.store = self.service.store
        self.cache = self.service.servicer.cache
        self.captures = self.service.captures
        self.channel: grpc.Channel | None = None
        self.stub = None

    def start(self, wait_for_frames: bool = True) -> LocalImageService:
        self.service.serve()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.service.port}")
        self.stub = image_service_pb2_grpc.ImageServiceStub(self.channel)
        if wait_for_frames:
            for capture in self.captures:
                wait_for(lambda name=capture.name: self.store.latest(name))
        return self

    def status(self, name: str):
        """The ``CameraStatus`` of camera ``name``."""
        return self.service.status(name)

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        self.service.stop()


# -- the whole service against the robot simulator ---------------------------------------
SERVICE_NAME = "camera-image-service"


def service_config(sim, sources, credentials_file=None, path=None, **robot):
    """A validated ``Config`` for the service on loopback, registering with ``sim``; with
    ``path``, also written there as the config file it was loaded from."""
    data = {
        "robot": {"hostname": sim.address, "port": sim.port, "ca_cert": str(sim.ca_cert),
                  "payload_credentials_file": str(credentials_file or
                                                  sim.payload_credentials_file),
                  "host_ip": "127.0.0.1", "keepalive_seconds": 0.5, **robot},
        "service": {"port": 0, "bind": "127.0.0.1"},
        "sources": sources,
    }
    config = from_mapping(data)
    if path is not None:
        Path(path).write_text(yaml.safe_dump(data, sort_keys=False))
        config.path = str(path)
    return config


def image_client(sim, name=SERVICE_NAME):
    """``(robot, ImageClient)`` of the registered service, through the robot's routing."""
    robot = sim.sdk_robot()
    wait_for(lambda: sim.wait_for_service(name))
    robot.sync_with_directory()
    return robot, robot.ensure_client(name)


def raw_stub(robot, name=SERVICE_NAME):
    """The ImageService stub on the robot's routed channel: sees statuses the SDK's
    ImageClient turns into exceptions."""
    entry = robot.ensure_client("directory").get_entry(name)
    return image_service_pb2_grpc.ImageServiceStub(robot.ensure_secure_channel(entry.authority))


def assert_fast_reconnect(created_channels) -> None:
    """Every robot channel in ``created_channels`` retries a lost robot within a second."""
    assert {authority for authority, _ in created_channels} >= {"api.spot.robot"}
    for authority, options in created_channels:
        assert options.get("grpc.max_reconnect_backoff_ms", 120_000) <= 1000, authority


@dataclass
class Reply:
    """One HTTP answer (the viewer's and the settings page's test clients)."""

    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def sdk_cli(sim, *args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python3 -m bosdyn.client ROBOT ARGS`` (the SDK's own command line) pointed at the
    simulator as a logged-in user (``robot_sim exec``); run in ``cwd``. Never a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "robot_sim", "exec", "--state-dir", str(sim.state_dir), "--",
         sys.executable, "-m", "bosdyn.client", sim.address, *args],
        capture_output=True, text=True, timeout=60,
        cwd=cwd or Path(__file__).resolve().parents[2])
    assert "Traceback" not in result.stderr, result.stderr
    return result
