"""Helpers shared by the reliability tests: service configs against the robot simulator, an
in-process service runner, and process resource counts (polling: ``devtools.polling``)."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import grpc
import psutil
from bosdyn.api import image_pb2, image_service_pb2_grpc
from camera_service.app.service import CameraService, RetryTiming
from camera_service.config.model import from_mapping

from fake_cameras.failing_camera import failing_cameras

SERVICE_NAME = "camera-image-service"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def synthetic(name: str, width: int = 160, height: int = 120, fps: float = 30,
              **options: Any) -> Dict[str, Any]:
    """A ``sources`` entry for a synthetic camera."""
    return {"name": name, "type": "synthetic", "width": width, "height": height, "fps": fps,
            **options}


def config_mapping(sim, sources: List[Dict[str, Any]], **robot: Any) -> Dict[str, Any]:
    """A config mapping for a service registering with ``sim`` (keep-alive every 0.5 s)."""
    robot_section = {"hostname": sim.address, "port": sim.port, "ca_cert": str(sim.ca_cert),
                     "payload_credentials_file": str(sim.payload_credentials_file),
                     "host_ip": "127.0.0.1", "keepalive_seconds": 0.5}
    robot_section.update(robot)
    return {"robot": robot_section, "service": {"port": 0, "bind": "127.0.0.1"},
            "sources": sources}


class RunningService:
    """A ``CameraService`` started in this process, with a loopback ``stub`` to it."""

    def __init__(self, mapping: Dict[str, Any], retry: Optional[RetryTiming] = None) -> None:
        config = from_mapping(mapping)
        # synthetic cameras that can be made to fail (fake_cameras.failing_camera)
        self.service = CameraService(config, sources=failing_cameras(config), retry=retry)
        self.service.start()
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.service.port}",
            options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                     ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
        self.stub = image_service_pb2_grpc.ImageServiceStub(self.channel)

    def source(self, name: str):
        return next(source for source in self.service.sources if source.name == name)

    def get(self, *requests: image_pb2.ImageRequest, timeout: float = 10.0):
        """GetImage with ``requests``; returns the ImageResponses."""
        response = self.stub.GetImage(image_pb2.GetImageRequest(image_requests=requests),
                                      timeout=timeout)
        return list(response.image_responses)

    def stop(self) -> None:
        self.channel.close()
        self.service.stop()


def resources(pid: int | None = None) -> Dict[str, float]:
    """RSS (MiB), thread count and open file descriptors of a process (default: this one)."""
    process = psutil.Process(pid or os.getpid())
    return {"rss_mib": process.memory_info().rss / (1024 * 1024),
            "threads": process.num_threads(), "fds": process.num_fds()}


def routed_image_stub(sim, name: str):
    """``(robot, ImageService stub)`` for the service ``name`` through the robot's routing
    (sees every status and message, unlike the SDK's ImageClient, which raises)."""
    robot = sim.sdk_robot()
    entry = robot.ensure_client("directory").get_entry(name)
    return robot, image_service_pb2_grpc.ImageServiceStub(
        robot.ensure_secure_channel(entry.authority))
