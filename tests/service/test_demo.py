"""``python -m camera_service.demo`` (what ``make demo`` runs): one command brings up the
robot simulator, the camera service and the viewer, prints the URL, and Ctrl+C stops all."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import cv2
import numpy as np
import psutil
import pytest
from camera_service.demo import SYNTHETIC_SOURCES, demo_sources

READY = re.compile(r"^demo: ready - open (http://\S+) ")


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


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))
    into.put(None)


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((parts.hostname, parts.port)) == 0


@pytest.mark.slow
def test_demo_serves_frames_and_ctrl_c_stops_everything(tmp_path):
    demo = subprocess.Popen(
        [sys.executable, "-m", "camera_service.demo", "--state-dir", str(tmp_path / "demo"),
         "--listen", "127.0.0.1:0", "--synthetic"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(demo.stdout, output), daemon=True).start()
    seen, url = [], None
    try:
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            try:
                line = output.get(timeout=1)
            except queue.Empty:
                continue
            assert line is not None, "demo ended early:\n" + "\n".join(seen)
            seen.append(line)
            match = READY.match(line)
            url = match.group(1) if match else None
        assert url, "no URL line:\n" + "\n".join(seen)
        assert sum("http://" in line for line in seen) == 1, "the URL must be printed once"

        with urllib.request.urlopen(url + "api/sources", timeout=15) as answer:
            services = json.load(answer)["services"]
        names = {source["name"] for service in services for source in service["sources"]}
        assert names == {"synthetic-720p-jpeg", "synthetic-480p-raw"}
        frame_url = url + "api/frame?service=camera-image-service&source=synthetic-720p-jpeg"
        with urllib.request.urlopen(frame_url, timeout=15) as answer:
            image = cv2.imdecode(np.frombuffer(answer.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (720, 1280, 3)

        children = psutil.Process(demo.pid).children(recursive=True)
        assert children, "the camera service should run as a child process"
        robot_port = json.loads((tmp_path / "demo" / "robot" / "robot.json").read_text())["port"]

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    rest = []
    while True:
        line = output.get(timeout=5)
        if line is None:
            break
        rest.append(line)
    assert "demo: stopping" in rest
    assert not any("Traceback" in line for line in seen + rest), "\n".join(seen + rest)
    _, still_running = psutil.wait_procs(children, timeout=5)
    assert not still_running, f"left behind: {still_running}"
    assert not _port_open(url), "the viewer still listens"
    assert not _port_open(f"http://127.0.0.1:{robot_port}"), "the robot simulator still listens"
