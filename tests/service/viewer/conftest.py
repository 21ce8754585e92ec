"""Fixtures of the viewer tests: a whole stack (robot simulator, camera service subprocess
registered through it, viewer logged in as the simulator's user) and a headless Chromium."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
from camera_service.demo import CameraServiceProcess, free_port, write_service_config
from camera_service.viewer.__main__ import start_viewer
from camera_service.viewer.http_api import ViewerServer
from camera_service.viewer.login import PasswordLogin
from camera_service.viewer.robot_link import RobotTarget

from robot_sim import RobotSimulator

SERVICE = "camera-image-service"
# "front": native JPEG; "raw": raw pixels the service encodes; "broken": stops delivering
# after 3 frames (the synthetic source's fault hook) and stays faulted.
TEST_SOURCES = [
    {"name": "front", "type": "synthetic", "width": 640, "height": 480, "fps": 15},
    {"name": "raw", "type": "synthetic", "width": 320, "height": 240, "fps": 10,
     "native_jpeg": False},
    {"name": "broken", "type": "synthetic", "width": 320, "height": 240, "fps": 10,
     "fail_after_frames": 3},
]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@dataclass
class Reply:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


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
    return start_viewer(RobotTarget(sim.address, sim.port, sim.ca_cert),
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


@pytest.fixture(scope="module")
def stack() -> Iterator[ViewerStack]:
    """The whole stack, shared by the tests of one module (tests that take the robot away
    must let it come back)."""
    state_dir = Path(tempfile.mkdtemp(prefix="viewer-stack-"))
    sim, service, viewer = start_stack(state_dir)
    try:
        yield ViewerStack(sim, service, viewer)
    finally:
        viewer.stop()
        service.stop()
        sim.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by selenium through chromedriver."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver, or run tools/provision.sh)")
    from selenium import webdriver

    profile = tempfile.mkdtemp(prefix="viewer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
