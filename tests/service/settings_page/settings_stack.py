"""The stack the settings-page tests run against: the robot simulator and the camera
service as a subprocess registered through it, with two synthetic sources and its settings
page on a free loopback port (short sessions so expiry can be seen)."""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Optional

import yaml
from service_test_helpers import Reply

from devtools.demo import CameraServiceProcess, free_port
from robot_sim import RobotSimulator

SERVICE = "camera-image-service"
SESSION_MINUTES = 0.25  # 15 s: long enough for a test's steps, short enough to see expiry
SOURCES = [
    {"name": "front", "type": "synthetic", "width": 320, "height": 240, "fps": 10},
    {"name": "back", "type": "synthetic", "width": 320, "height": 240, "fps": 10,
     "native_jpeg": False},
]


@dataclass
class SettingsStack:
    sim: RobotSimulator
    service: CameraServiceProcess
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def config_file(self) -> Path:
        return self.service.config

    def log(self) -> str:
        return self.service.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: Optional[dict] = None,
                headers: Optional[Dict[str, str]] = None) -> Reply:
        """One HTTPS request to the page (its self-signed certificate pinned by file);
        HTTP errors are returned, not raised."""
        context = ssl.create_default_context(cafile=str(self.folder / "settings-cert.pem"))
        context.check_hostname = False
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, method=method,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=15, context=context) as answer:
                return Reply(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())


def write_config(path: Path, sim: RobotSimulator, settings_port: int,
                 sources: Optional[list] = None,
                 session_minutes: float = SESSION_MINUTES) -> None:
    config = {
        "robot": {"hostname": sim.address, "port": sim.port, "ca_cert": str(sim.ca_cert),
                  "payload_credentials_file": str(sim.payload_credentials_file),
                  "host_ip": "127.0.0.1", "keepalive_seconds": 2},
        "service": {"port": free_port(), "bind": "127.0.0.1", "name": SERVICE},
        "settings": {"port": settings_port, "bind": "127.0.0.1",
                     "session_minutes": session_minutes},
        "sources": SOURCES if sources is None else sources,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def start_stack(folder: Path, sources: Optional[list] = None,
                session_minutes: float = SESSION_MINUTES) -> SettingsStack:
    sim = RobotSimulator(state_dir=folder / "robot").start()
    service = CameraServiceProcess(folder / "config.yaml", folder / "service.log")
    try:
        port = free_port()
        write_config(service.config, sim, port, sources, session_minutes)
        service.start()
        assert service.wait_registered(sim, 60, threading.Event())
        stack = SettingsStack(sim, service, port, folder)
        deadline = time.monotonic() + 30
        while "settings page on https://" not in stack.log():
            assert time.monotonic() < deadline, f"no settings page: {stack.log()[-2000:]}"
            time.sleep(0.1)
        return stack
    except BaseException:
        service.stop()
        sim.stop()
        raise


@contextlib.contextmanager
def running_stack(prefix: str, **options) -> Iterator[SettingsStack]:
    """``start_stack`` in a fresh folder, stopped and removed afterwards (a module fixture's
    body)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    stack = start_stack(folder, **options)
    try:
        yield stack
    finally:
        stack.service.stop()
        stack.sim.stop()
        shutil.rmtree(folder, ignore_errors=True)
