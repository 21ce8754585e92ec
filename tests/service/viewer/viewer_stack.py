"""The stack the viewer tests run against: the robot simulator, the camera service as a
subprocess registered through it (synthetic sources, one that faults), and the viewer
logged in as the simulator's user."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

from camera_service.robot.login import PasswordLogin
from camera_service.robot.sdk_robot import RobotTarget
from service_test_helpers import Reply

from devtools.demo import CameraServiceProcess, free_port, write_service_config
from robot_sim import RobotSimulator
from viewer.__main__ import start_viewer
from viewer.http_api import ViewerServer

SERVICE = "camera-image-service"
# "front": native JPEG; "raw": raw pixels the service encodes; "broken": a video file that
# is not there, so the camera stays faulted (the shipped service has no failure hooks).
TEST_SOURCES = [
    {"name": "front", "type": "synthetic", "width": 640, "height": 480, "fps": 15},
    {"name": "raw", "type": "synthetic", "width": 320, "height": 240, "fps": 10,
     "native_jpeg": False},
    {"name": "broken", "type": "file", "width": 320, "height": 240, "fps": 10,
     "path": "/nonexistent/broken-camera.avi"},
]


@dataclass
class ViewerStack:
    sim: RobotSimulator
    service: CameraServiceProcess
    viewer: ViewerServer

    @property
    def url(self) -> str:
        return self.viewer.url

    def get(self, path: str, timeout: float = 15) -> Reply:
        """GET ``path`` from the viewer; HTTP errors are returned, not raised."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=timeout) as answer:
                return Reply(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())


def viewer_for(sim: RobotSimulator) -> ViewerServer:
    """A started viewer on a free loopback port, logged in as the simulator's user."""
    return start_viewer(RobotTarget(sim.address, sim.port, str(sim.ca_cert)),
                        PasswordLogin(sim.username, sim.password), ("127.0.0.1", 0))


def service_for(sim: RobotSimulator, state_dir: Path) -> CameraServiceProcess:
    """The camera service with ``TEST_SOURCES``, started and registered through ``sim``."""
    service = CameraServiceProcess(state_dir / "service.yaml", state_dir / "service.log")
    try:
        write_service_config(service.config, sim, TEST_SOURCES, free_port())
        service.start()
        assert service.wait_registered(sim, 60, threading.Event())
    except BaseException:
        service.stop()
        raise
    return service


def start_stack(state_dir: Path) -> Tuple[RobotSimulator, CameraServiceProcess, ViewerServer]:
    sim = RobotSimulator(state_dir=state_dir / "robot").start()
    try:
        service = service_for(sim, state_dir)
    except BaseException:
        sim.stop()
        raise
    try:
        viewer = viewer_for(sim)
    except BaseException:
        service.stop()
        sim.stop()
        raise
    return sim, service, viewer
