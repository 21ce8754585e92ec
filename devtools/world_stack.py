"""The settings page of an in-process camera service whose V4L2 cameras are a fake V4L2
world (``fake_cameras.v4l2_world``: for machines with no /dev/video): every ``v4l2`` source
the config builds - at start and at each apply - opens the world's cameras, and the page's
"Cameras present" lists them. The robot is the in-process simulator. Used by the page's
browser tests and the docs' screenshots (``devtools.screenshots``)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml
from camera_service import sources as source_kinds
from camera_service.app.service import CameraService
from camera_service.app.settings_backend import ServiceView
from camera_service.config import model as config_module
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.http_api import SettingsServer
from camera_service.settings_page.robot_auth import RobotAuthenticator
from camera_service.settings_page.tls import ensure_certificate
from camera_service.sources.v4l2.source import V4L2Source

from devtools.polling import wait_for
from fake_cameras.v4l2_world import FakeV4L2World
from robot_sim import RobotSimulator

SERVICE_NAME = "camera-image-service"


@dataclass
class WorldStack:
    sim: RobotSimulator
    world: FakeV4L2World
    service: CameraService
    page: SettingsServer
    config_file: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.page.port}/"


@contextlib.contextmanager
def world_stack(sim: RobotSimulator, world: FakeV4L2World, folder: Path,
                sources: list) -> Iterator[WorldStack]:
    """The service on ``sources`` (config file in ``folder``) with its page; v4l2 sources
    open ``world``'s cameras."""

    class WorldV4L2Source(V4L2Source):
        def __init__(self, settings) -> None:
            super().__init__(settings, capture_factory=world.capture_factory,
                             tree=world.tree(),
                             control_device_factory=world.control_device_factory)

    source_kinds.known_kinds()  # registers the real kinds first
    real = source_kinds._KINDS["v4l2"]
    source_kinds._KINDS["v4l2"] = WorldV4L2Source
    config_file = folder / "config.yaml"
    config_file.write_text(yaml.safe_dump({
        "robot": {"hostname": sim.address, "port": sim.port, "ca_cert": str(sim.ca_cert),
                  "payload_credentials_file": str(sim.payload_credentials_file),
                  "host_ip": "127.0.0.1", "keepalive_seconds": 0.5},
        "service": {"port": 0, "bind": "127.0.0.1", "name": SERVICE_NAME},
        "settings": {"enabled": False},  # this stack starts its own, on the fake world
        "sources": sources}, sort_keys=False))
    service = CameraService(config_module.load(str(config_file)))
    page = None
    try:
        service.start()
        sim.wait_for_service(SERVICE_NAME, timeout=15)
        page = SettingsServer(("127.0.0.1", 0), ensure_certificate(folder).server_context(),
                              ServiceView(service, tree=world.tree(),
                                          device_factory=world.control_device_factory),
                              ConfigStore(config_file),
                              RobotAuthenticator(RobotTarget(sim.address, sim.port,
                                                             str(sim.ca_cert))),
                              session_seconds=600)
        page.start()
        for entry in sources:
            wait_for(lambda name=entry["name"]: service.store.latest(name))
        yield WorldStack(sim, world, service, page, config_file)
    finally:
        if page is not None:
            page.stop()
        service.stop()
        source_kinds._KINDS["v4l2"] = real
