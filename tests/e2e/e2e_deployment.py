"""The built extension installed on a CORE I/O stand-in, talking to an in-process robot simulator.

``Deployment`` holds the facts the end-to-end tests need (installer result, simulator,
container) and the actions they take: start/stop the robot, restart the container or the
Docker engine, read the container's log, wait for the service in the robot's directory.
Measured figures are collected in ``FIGURES`` and printed at the end of the session.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from coreio_sim import docker_cli
from coreio_sim.installer import Installed

SERVICE_NAME = "camera-image-service"
#: The camera: the fake IP camera on the host, reached over loopback (host networking). A
#: synthetic source would render and encode every frame inside the emulated arm64 container,
#: measuring qemu rather than the service; MJPEG from a network camera is passed through.
SOURCE_NAME = "e2e-ipcam"
SOURCE_FPS = 10.0
SOURCE_SIZE = (640, 480)
CONTAINER_CA = "/config/robot-ca.pem"
#: (scenario, value, unit) in the order measured; printed by the e2e conftest.
FIGURES: List[tuple] = []


def record(scenario: str, value: float, unit: str = "s") -> float:
    """Remember a measured figure for the end-of-session summary; returns ``value``."""
    FIGURES.append((scenario, value, unit))
    return value


def free_port(preferred: int = 0, low: int = 0, high: int = 0) -> int:
    """``preferred`` if free on loopback, else a free port in [low, high], else any free port."""
    candidates = [preferred] if preferred else []
    if low and high:
        candidates += list(range(low, high + 1))
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def operator_config(robot_port: int, service_port: int, camera_url: str,
                    settings_port: int = 21231) -> Dict:
    """The operator's config.yaml for this stand-in: robot and IP camera on loopback."""
    return {
        "robot": {
            "hostname": "127.0.0.1",
            "port": robot_port,
            "ca_cert": CONTAINER_CA,
            "host_ip": "127.0.0.1",
        },
        "service": {"port": service_port, "bind": "127.0.0.1", "name": SERVICE_NAME},
        "settings": {"port": settings_port, "bind": "127.0.0.1"},
        "log_level": "info",
        "sources": [{"name": SOURCE_NAME, "type": "url", "url": camera_url}],
    }


@dataclass
class Deployment:
    """One installed extension plus the simulator it registers with."""

    installed: Installed
    robot: object  # robot_sim.RobotSimulator (in-process)
    camera: object  # fake_cameras.ip_camera.FakeIPCamera (in-process)
    credentials: Path  # the stand-in tree's credentials file
    service_port: int = 21230
    settings_port: int = 21231
    robot_down: bool = True
    started_at: float = 0.0  # monotonic time of the first ``compose up``

    # -- robot -----------------------------------------------------------------------------
    def robot_up(self) -> float:
        """Let the robot accept connections; returns the monotonic time it was serving."""
        self.robot.refuse_connections(0)
        self.robot.wait_until_serving(10)
        self.robot_down = False
        return time.monotonic()

    def ensure_registered(self, timeout: float = 120.0) -> None:
        """Robot up and the service in its directory (whatever earlier tests did)."""
        if self.robot_down:
            self.robot_up()
        self.robot.wait_for_service(SERVICE_NAME, timeout=timeout)

    def registered(self) -> bool:
        return any(entry.name == SERVICE_NAME for entry in self.robot.directory_entries())

    def wait_unregistered(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.registered():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- container -------------------------------------------------------------------------
    def container_id(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            ids = docker_cli.project_containers(self.installed.project)
            if len(ids) == 1:
                return ids[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"expected one container, found {ids}")
            time.sleep(0.5)

    def inspect(self) -> Dict:
        out = docker_cli.run(["docker", "inspect", self.container_id()], "docker inspect")
        return json.loads(out)[0]

    def restart_count(self) -> int:
        return int(self.inspect()["RestartCount"])

    def logs(self, since: str = "") -> str:
        """The container's log (stdout + stderr), optionally since an RFC 3339 time."""
        args = ["docker", "logs"] + (["--since", since] if since else []) + [self.container_id()]
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        return proc.stdout + proc.stderr

    def docker(self, *args: str) -> None:
        docker_cli.run(["docker", *args, self.container_id()], f"docker {args[0]}")

    def compose_up(self) -> None:
        docker_cli.compose(
            self.installed.project, self.installed.compose_files, ["up", "-d"], "compose up"
        )

    def write_config(self) -> None:
        """Write the operator config (robot port, CA) into the extension's config folder."""
        config_dir = self.installed.extension_dir / "config"
        config_dir.mkdir(exist_ok=True)
        shutil.copyfile(self.robot.ca_cert, config_dir / Path(CONTAINER_CA).name)
        (config_dir / Path(CONTAINER_CA).name).chmod(0o644)
        config = operator_config(self.robot.port, self.service_port, self.camera.url,
                                 self.settings_port)
        (config_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


class SettingsClient:
    """The extension's settings page over HTTPS, as a browser uses it: the session cookie
    and CSRF token kept after ``login`` (the self-signed certificate is pinned by file)."""

    def __init__(self, port: int, cert_file: Path) -> None:
        self.url = f"https://127.0.0.1:{port}"
        self._context = ssl.create_default_context(cafile=str(cert_file))
        self._context.check_hostname = False
        self._headers: Dict[str, str] = {"Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Dict | None = None) -> Tuple[int, Dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=20, context=self._context) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def login(self, username: str, password: str) -> int:
        request = urllib.request.Request(
            self.url + "/api/login", method="POST", headers=self._headers,
            data=json.dumps({"username": username, "password": password}).encode())
        with urllib.request.urlopen(request, timeout=20, context=self._context) as answer:
            self._headers["Cookie"] = answer.headers["Set-Cookie"].split(";")[0]
            self._headers["X-CSRF-Token"] = json.loads(answer.read())["csrf"]
            return answer.status


def now_rfc3339() -> str:
    """Docker-log ``--since`` value for now (the daemon runs on this host)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"


# -- the Docker engine -------------------------------------------------------------------------
def engine_restart_allowed(project: str) -> str:
    """Empty if this session may restart the Docker engine, else why not.

    Restarting the engine stops every container on the machine. It is done when asked
    (``SPOT_E2E_RESTART_DOCKERD=1``), on a CI machine (``CI=true``), or when the engine is
    idle apart from compose ``project``: no other container running or set to restart
    ``always``, and no other docker client building, loading or saving.
    ``SPOT_E2E_RESTART_DOCKERD=0`` forbids it.
    """
    asked = os.environ.get("SPOT_E2E_RESTART_DOCKERD", "")
    if asked in ("0", "1"):
        return "" if asked == "1" else "SPOT_E2E_RESTART_DOCKERD=0 forbids restarting the engine"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return ""
    ours = set(docker_cli.project_containers(project))
    others = [
        cid
        for cid in docker_cli.run(["docker", "ps", "-aq"], "docker ps").split()
        if cid not in ours
    ]
    if others:
        out = docker_cli.run(["docker", "inspect", *others], "docker inspect")
        busy = [
            c["Name"].lstrip("/")
            for c in json.loads(out)
            if c["State"]["Running"] or c["HostConfig"]["RestartPolicy"]["Name"] == "always"
        ]
        if busy:
            return (
                f"other containers would be stopped or started ({', '.join(busy[:3])});"
                " set SPOT_E2E_RESTART_DOCKERD=1 or CI=true to restart the engine anyway"
            )
    clients = _busy_docker_clients()
    if clients:
        return (
            f"another docker client is working ({clients[0]}); set"
            " SPOT_E2E_RESTART_DOCKERD=1 or CI=true to restart the engine anyway"
        )
    return ""


def _busy_docker_clients() -> List[str]:
    """Command lines of docker clients building, loading, saving or importing images."""
    busy = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        words = [arg.decode(errors="replace") for arg in args if arg]
        if (
            words
            and Path(words[0]).name == "docker"
            and any(
                word in ("build", "load", "save", "import", "pull", "buildx") for word in words[1:3]
            )
        ):
            busy.append(" ".join(words)[:80])
    return busy


def restart_engine(timeout: float = 60.0) -> float:
    """Restart the Docker engine; returns the monotonic time it answered again.

    Uses systemd when it manages Docker, else stops the running ``dockerd`` by its pid and
    starts it the way tools/provision.sh does. Live restore must be off (containers really stop
    and come back through their restart policy).
    """
    info = docker_cli.run(["docker", "info", "--format", "{{json .}}"], "docker info")
    if json.loads(info).get("LiveRestoreEnabled"):
        raise AssertionError("live-restore is on: an engine restart would not stop containers")
    systemd = (
        subprocess.run(
            ["systemctl", "is-active", "--quiet", "docker"], capture_output=True, check=False
        ).returncode
        == 0
        if shutil.which("systemctl")
        else False
    )
    if systemd:
        subprocess.run(["systemctl", "restart", "docker"], check=True)
    else:
        pid = int(Path("/var/run/docker.pid").read_text().strip())
        os.kill(pid, 15)
        deadline = time.monotonic() + timeout
        while Path(f"/proc/{pid}").exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"dockerd (pid {pid}) did not stop within {timeout:g} s")
            time.sleep(0.2)
        with open("/var/log/dockerd.log", "ab") as log:
            subprocess.Popen(
                ["dockerd"],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
    deadline = time.monotonic() + timeout
    while docker_cli.engine_unavailable_reason():
        if time.monotonic() > deadline:
            raise AssertionError("the Docker engine did not come back; see /var/log/dockerd.log")
        time.sleep(0.2)
    return time.monotonic()
