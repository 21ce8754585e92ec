"""``python -m devtools.demo`` (what ``make demo`` runs): one command brings up the
robot simulator, the camera service and the viewer, prints the URL, and Ctrl+C stops all."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import psutil
import pytest

from devtools.demo import SYNTHETIC_SOURCES, demo_sources

READY = re.compile(r"^demo: ready - open (http://\S+) ")
SETTINGS = re.compile(r"^demo: the service's settings page: (https://\S+) .*also in (\S+)\)")
USER = re.compile(r"^demo:   user: (\S+)$")
PASSWORD = re.compile(r"^demo:   password: (\S+)$")


class FakeVideoTree:
    """Stands in for /dev/video cameras, which cannot exist on this kernel."""

    def __init__(self, nodes):
        self.nodes = nodes

    def capture_nodes(self):
        return self.nodes


def test_demo_uses_synthetic_cameras_without_video_devices():
    sources = demo_sources(tree=FakeVideoTree([]))
    assert sources == SYNTHETIC_SOURCES
    assert {(s["width"], s["height"], s["fps"], s["native_jpeg"]) for s in sources} == {
        (1280, 720, 30, True), (640, 480, 15, False)}


def test_demo_uses_real_cameras_when_present_unless_told_otherwise():
    tree = FakeVideoTree(["/dev/video0"])
    assert demo_sources(tree=tree) == [{"name": "usb", "type": "v4l2", "device": "all"}]
    assert demo_sources(force_synthetic=True, tree=tree) == SYNTHETIC_SOURCES


class DemoRun:
    """``python -m devtools.demo`` as a subprocess, its output collected line by line."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.demo", "--state-dir", str(state_dir),
             "--listen", "127.0.0.1:0", "--synthetic"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_url(self, timeout: float = 90, pattern: re.Pattern = READY) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1)
            except queue.Empty:
                continue
            assert line is not None, "demo ended early:\n" + "\n".join(self.lines)
            self.lines.append(line)
            match = pattern.match(line)
            if match:
                return match
        raise AssertionError("no URL line:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = 30) -> int:
        """Wait for the exit status and the rest of the output."""
        status = self.process.wait(timeout=timeout)
        while True:
            line = self._queue.get(timeout=5)
            if line is None:
                return status
            self.lines.append(line)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def robot_port(self) -> int:
        return json.loads((self.state_dir / "robot" / "robot.json").read_text())["port"]


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_demo_serves_frames_and_ctrl_c_stops_everything(tmp_path):
    demo = DemoRun(tmp_path / "demo")
    try:
        url = demo.wait_for_url().group(1)
        assert sum("http://" in line for line in demo.lines) == 1, "print the URL once"
        settings_url, login_file = demo.wait_for_url(pattern=SETTINGS).groups()
        user = demo.wait_for_url(pattern=USER).group(1)
        password = demo.wait_for_url(pattern=PASSWORD).group(1)
        assert Path(login_file).read_text() == f"user: {user}\npassword: {password}\n"
        insecure = ssl._create_unverified_context()  # the page's self-signed certificate
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(settings_url + "api/status", timeout=15, context=insecure)
        assert refused.value.code == 401  # the page answers, behind its login

        with urllib.request.urlopen(url + "api/sources", timeout=15) as answer:
            services = json.load(answer)["services"]
        names = {source["name"] for service in services for source in service["sources"]}
        assert names == {"synthetic-720p-jpeg", "synthetic-480p-raw"}
        frame_url = url + "api/frame?service=camera-image-service&source=synthetic-720p-jpeg"
        with urllib.request.urlopen(frame_url, timeout=15) as answer:
            image = cv2.imdecode(np.frombuffer(answer.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (720, 1280, 3)

        children = psutil.Process(demo.process.pid).children(recursive=True)
        assert children, "the camera service should run as a child process"
        robot_port = demo.robot_port()

        log = (tmp_path / "demo" / "camera-service.log").read_text()
        assert "outside 21000-22000" not in log, "the demo's service port must suit a CORE I/O"
        demo.process.send_signal(signal.SIGINT)
        assert demo.finish() == 0
    finally:
        demo.kill()
    assert "demo: stopping" in demo.lines
    assert not any("Traceback" in line for line in demo.lines), "\n".join(demo.lines)
    _, still_running = psutil.wait_procs(children, timeout=5)
    assert not still_running, f"left behind: {still_running}"
    assert not _port_open(urlsplit(url).port), "the viewer still listens"
    assert not _port_open(robot_port), "the robot simulator still listens"


@pytest.mark.slow
def test_demo_says_when_the_camera_service_dies_and_stops(tmp_path):
    demo = DemoRun(tmp_path / "demo")
    try:
        url = demo.wait_for_url().group(1)
        (service,) = psutil.Process(demo.process.pid).children(recursive=True)
        service.kill()
        assert demo.finish() == 1
    finally:
        demo.kill()
    error = [line for line in demo.lines if line.startswith("demo: error: ")]
    assert len(error) == 1, "\n".join(demo.lines)
    assert "the camera service exited with status -9" in error[0]
    assert str(tmp_path / "demo" / "camera-service.log") in error[0]
    assert not any("Traceback" in line for line in demo.lines)
    assert not _port_open(urlsplit(url).port)
