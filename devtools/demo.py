"""The whole product on one machine, in one command (``make demo``).

``python -m devtools.demo [--state-dir DIR] [--listen HOST:PORT] [--synthetic]``

1. starts the robot simulator (in this process) with its CA, users and payload credentials
   in ``DIR`` (default ``.cache/demo``);
2. writes ``DIR/camera-service.yaml``: the real ``/dev/video*`` cameras when any can
   capture (unless ``--synthetic``), else two synthetic cameras (a native-JPEG
   1280x720 @ 30 fps one and a raw 640x480 @ 15 fps one);
3. starts the camera service as a subprocess (log in ``DIR/camera-service.log``), which
   logs in with the simulator's payload credentials and registers through it;
4. waits until the service is in the robot's directory, starts the live viewer logged in
   as the simulator's user, and prints one line with the URL to open, and one with the
   service's own settings page (``https://127.0.0.1:21231/``, or a free port when that is
   taken; log in with the simulator's user, whose password is in ``DIR/robot-login.txt``).

Ctrl+C (SIGINT) or SIGTERM stops the viewer, the service and the simulator, in that order,
and exits 0. If the service dies, the demo says so (with the log's last line) and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, List

import yaml
from camera_service.cli.ports import ALLOWED_RANGE, SUGGESTED_PORT, port_advice
from camera_service.robot.login import PasswordLogin
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.sources.v4l2.discovery import VideoTree

from robot_sim import RobotSimulator
from viewer.__main__ import UsageError, parse_listen, start_viewer
from viewer.http_api import ViewerServer

LOG = logging.getLogger("devtools.demo")

DEFAULT_STATE_DIR = Path(".cache") / "demo"
DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_SETTINGS_PORT = 21231
SERVICE_NAME = "camera-image-service"
REGISTRATION_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

SYNTHETIC_SOURCES = [
    {"name": "synthetic-720p-jpeg", "type": "synthetic", "width": 1280, "height": 720,
     "fps": 30, "native_jpeg": True},
    {"name": "synthetic-480p-raw", "type": "synthetic", "width": 640, "height": 480,
     "fps": 15, "native_jpeg": False},
]


class DemoError(RuntimeError):
    """The demo cannot go on; the message is one line naming what failed and where to look."""


def demo_sources(force_synthetic: bool = False, tree: VideoTree | None = None) -> List[dict]:
    """Config ``sources`` for the demo: every capture-capable V4L2 camera (one
    ``device: all`` entry) when there is one and ``force_synthetic`` is false, else the two
    synthetic cameras."""
    if not force_synthetic and (tree or VideoTree()).capture_nodes():
        return [{"name": "usb", "type": "v4l2", "device": "all"}]
    return [dict(source) for source in SYNTHETIC_SOURCES]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def write_service_config(path: Path, sim: RobotSimulator, sources: List[dict],
                         service_port: int, settings_port: int | None = None) -> Path:
    """Write the camera service's YAML config pointing it at the simulator; with
    ``settings_port``, its settings page listens there on loopback (else it is off)."""
    config = {
        "robot": {
            "hostname": sim.address,
            "port": sim.port,
            "ca_cert": str(sim.ca_cert),
            "payload_credentials_file": str(sim.payload_credentials_file),
            "host_ip": "127.0.0.1",
        },
        "service": {"port": service_port, "bind": "127.0.0.1", "name": SERVICE_NAME},
        "settings": ({"port": settings_port, "bind": "127.0.0.1"} if settings_port
                     else {"enabled": False}),
        "sources": sources,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class CameraServiceProcess:
    """The camera service as a child process, in its own session so that a terminal's
    Ctrl+C reaches only the demo, which then stops the child in order."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camera_service", "--config", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def exited(self) -> int | None:
        """The exit status once the process ended, else None."""
        return None if self.process is None else self.process.poll()

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def wait_registered(self, sim: RobotSimulator, timeout: float,
                        cancel: threading.Event) -> bool:
        """Block until ``SERVICE_NAME`` is in the simulator's directory (True) or ``cancel``
        is set (False). Raises ``DemoError`` when the process exits first or ``timeout``
        passes."""
        deadline = time.monotonic() + timeout
        while not cancel.is_set():
            status = self.exited()
            if status is not None:
                raise DemoError(f"the camera service exited with status {status} "
                                f"({self.last_log_line()}); full log: {self.log_path}")
            try:
                sim.wait_for_service(SERVICE_NAME, timeout=0.5)
                return True
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise DemoError(f"the camera service did not register within {timeout:g} s;"
                                    f" see {self.log_path}") from None
        return False

    def stop(self) -> None:
        """SIGINT, then SIGKILL after ``STOP_TIMEOUT`` seconds. Idempotent."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                LOG.warning("demo: camera service did not stop in %g s; killing it", STOP_TIMEOUT)
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def _start_viewer_for(sim: RobotSimulator, listen_text: str) -> ViewerServer:
    target = RobotTarget(sim.address, sim.port, str(sim.ca_cert))
    login = PasswordLogin(sim.username, sim.password)
    listen = parse_listen(listen_text)
    try:
        return start_viewer(target, login, listen)
    except UsageError:
        if listen_text != DEFAULT_LISTEN:
            raise
        LOG.warning("demo: %s is taken; the viewer uses a free port instead", listen_text)
        return start_viewer(target, login, (listen[0], 0))


def _free_or(port: int) -> int:
    """``port`` when it is free on loopback, else any free port."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
        return port
    except OSError:
        return free_port()


def _write_login(state_dir: Path, sim: RobotSimulator) -> Path:
    """The simulator's user and password, labelled, readable by this user only (the
    simulated robot's throwaway login, made for this state folder; never a real robot's)."""
    path = state_dir / "robot-login.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"user: {sim.username}\npassword: {sim.password}\n")
    return path


def free_port_in_firewall_range(preferred: int, low: int = ALLOWED_RANGE[0]) -> int:
    """``preferred`` or the next port from ``low`` free on loopback inside the CORE I/O
    firewall's range (21000-22000, without the portal's 21443), so the service warns of
    nothing."""
    high = ALLOWED_RANGE[1]
    for port in [preferred, *range(low, high + 1)]:
        if port_advice(port) is not None:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise DemoError(f"no free port in {low}-{high} on 127.0.0.1")


def _install_stop_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def run(state_dir: Path, listen: str, force_synthetic: bool, stop: threading.Event) -> int:
    """Run the demo until ``stop`` is set (or the service dies). Returns the exit status."""
    state_dir.mkdir(parents=True, exist_ok=True)
    sim = RobotSimulator(state_dir=state_dir / "robot")
    service = CameraServiceProcess(state_dir / "camera-service.yaml",
                                   state_dir / "camera-service.log")
    viewer: ViewerServer | None = None
    try:
        sim.start()
        sources = demo_sources(force_synthetic)
        settings_port = _free_or(DEFAULT_SETTINGS_PORT)
        write_service_config(service.config, sim, sources,
                             free_port_in_firewall_range(SUGGESTED_PORT), settings_port)
        print(f"demo: robot simulator on {sim.address}:{sim.port}; starting the camera "
              f"service ({', '.join(source['name'] for source in sources)})", flush=True)
        service.start()
        if service.wait_registered(sim, REGISTRATION_TIMEOUT, stop):
            viewer = _start_viewer_for(sim, listen)
            print(f"demo: ready - open {viewer.url} in a browser (Ctrl+C stops everything)",
                  flush=True)
            login_file = _write_login(state_dir, sim)
            print(f"demo: the service's settings page: https://127.0.0.1:{settings_port}/ "
                  f"(self-signed certificate; log in with the simulated robot's login, also "
                  f"in {login_file})", flush=True)
            print(f"demo:   user: {sim.username}", flush=True)
            print(f"demo:   password: {sim.password}", flush=True)
        while not stop.wait(0.5):
            status = service.exited()
            if status is not None:
                raise DemoError(f"the camera service exited with status {status} "
                                f"({service.last_log_line()}); full log: {service.log_path}")
        print("demo: stopping", flush=True)
        return 0
    except (DemoError, UsageError) as err:
        print(f"demo: error: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        if viewer is not None:
            viewer.stop()
        service.stop()
        sim.stop()


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo",
                                     description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR,
                        help=f"where the demo keeps certificates, config and logs "
                             f"(default {DEFAULT_STATE_DIR})")
    parser.add_argument("--listen", default=DEFAULT_LISTEN,
                        help=f"HOST:PORT of the viewer (default {DEFAULT_LISTEN}, or a free "
                             "port when it is taken)")
    parser.add_argument("--synthetic", action="store_true",
                        help="use synthetic cameras even when /dev/video cameras exist")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    stop = threading.Event()
    _install_stop_signals(stop)
    return run(args.state_dir, args.listen, args.synthetic, stop)


if __name__ == "__main__":
    sys.exit(main())
