"""Every command line quoted in the SDK example documents (/work/shared/reference), and how a
test runs one against the robot simulator.

``LINES`` holds each line as printed there, placeholders included. ``ExampleRun`` fills the
placeholders (robot address, payload credentials, ports, camera) and runs the line the way
the user would - ``python -m camera_service`` with exactly those arguments (for a docker run
line or the compose command: the arguments the container's ``ENTRYPOINT`` receives) - under
``python -m robot_sim exec``, which points the unmodified SDK at the simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
SDK5 = "custom_parameter_image_server_sdk5.txt"
SDK2 = "web_cam_image_service_sdk2.1.txt"
TUTORIAL = "daq_tutorial_part2_image_service.md"
COMPOSE = "custom_parameter_image_server docker-compose.yml (SPEC.md section 6)"
# The SDK 2 docker run line's own payload (the payloads example's default GUID and secret).
SDK2_DOCKER_GUID = "78b076a2-b4ba-491d-a099-738928c4410c"
SDK2_DOCKER_SECRET = "secret"


@dataclass(frozen=True)
class ExampleLine:
    """One quoted command line. ``argv`` is what follows the program (``python3
    custom_parameter_image_server.py``, ``web_cam_image_service.py`` or the image name)."""

    id: str
    document: str
    argv: str

    @property
    def has_camera(self) -> bool:
        return any(flag in self.argv.split() for flag in ("--device-name", "--device"))


LINES: List[ExampleLine] = [
    ExampleLine("sdk5-payload", SDK5,
                "payload {ROBOT_IP} --guid {PAYLOAD_GUID} --secret {SECRET} "
                "--host-ip {PAYLOAD_IP} --port {PORT} --device-name {CAMERA}"),
    ExampleLine("sdk5-external", SDK5,
                "external {ROBOT_IP} --host-ip {COMPUTER_IP} --port {PORT} "
                "--device-name {CAMERA}"),
    ExampleLine("sdk5-docker-run", SDK5,
                "payload --host-ip localhost --port 50051 --guid GUID --secret SECRET ROBOT_IP"),
    ExampleLine("sdk5-spotcore", SDK5,
                "--device-name DEVICE_NAME --guid GUID --secret SECRET --host-ip "
                "HOST_COMPUTER_IP --port PORT_NUMBER ROBOT_IP"),
    ExampleLine("sdk5-compose", COMPOSE,
                "payload --host-ip 192.168.50.5 --port 50051 --device /dev/video0 "
                "--payload-credentials-file /opt/payload_credentials/payload_guid_and_secret "
                "192.168.50.3"),
    ExampleLine("sdk2-readme", SDK2,
                "--guid {PAYLOAD_GUID} --secret {SECRET} --host-ip {PAYLOAD_IP} --port {PORT} "
                "{ROBOT_IP} --device-name {CAMERA}"),
    ExampleLine("sdk2-docker-run", SDK2,
                f"--guid {SDK2_DOCKER_GUID} --secret {SDK2_DOCKER_SECRET} --host-ip HOST_IP "
                "ROBOT_IP --device-name /dev/video0"),
    ExampleLine("sdk2-portainer", SDK2,
                "--host-ip HOST_COMPUTER_IP --guid GUID --secret SECRET ROBOT_IP"),
    ExampleLine("tutorial", TUTORIAL,
                "--payload-credentials-file $CRED_FILE $ROBOT_IP --host-ip $SELF_IP "
                "--port $WEBCAM_PORT"),
]

# Several cameras: the SDK 5 README's "--device-name CAMERA1 --device-name CAMERA2" on its
# payload line, and the tutorial's nargs='*' list ("--device-name A B").
TWO_CAMERA_LINES: List[ExampleLine] = [
    ExampleLine("sdk5-two-cameras", SDK5,
                "payload {ROBOT_IP} --guid {PAYLOAD_GUID} --secret {SECRET} "
                "--host-ip {PAYLOAD_IP} --port {PORT} --device-name CAMERA1 "
                "--device-name CAMERA2"),
    ExampleLine("tutorial-device-list", TUTORIAL,
                "--payload-credentials-file $CRED_FILE $ROBOT_IP --host-ip $SELF_IP "
                "--port $WEBCAM_PORT --device-name CAMERA1 CAMERA2"),
]

# Placeholder -> what it stands for.
ROBOT = ("{ROBOT_IP}", "ROBOT_IP", "$ROBOT_IP", "192.168.50.3")
HOST = ("{PAYLOAD_IP}", "{COMPUTER_IP}", "HOST_IP", "HOST_COMPUTER_IP", "$SELF_IP",
        "192.168.50.5")  # "localhost" stays as written
PORT = ("{PORT}", "PORT_NUMBER", "$WEBCAM_PORT", "50051")
CAMERA = ("{CAMERA}", "DEVICE_NAME", "/dev/video0")
GUID = ("{PAYLOAD_GUID}", "GUID")
SECRET = ("{SECRET}", "SECRET")
CREDENTIALS_FILE = ("$CRED_FILE", "/opt/payload_credentials/payload_guid_and_secret")


def fill(line: ExampleLine, sim, port: int, camera: Optional[str],
         cameras: Sequence[str] = ()) -> List[str]:
    """``line``'s arguments with every placeholder replaced. ``camera`` replaces the device
    (``cameras`` replace CAMERA1, CAMERA2);
    a line without one (the example then opens device 0) gets ``--device-name camera``
    appended when ``camera`` is given. A line without ``--port`` (the example's random
    port; ours defaults to 21230) gets ``--port port``: tests share the machine."""
    guid, secret = sim.payload_credentials_file.read_text().split()
    values: Dict[str, str] = {}
    for group, value in ((ROBOT, sim.address), (HOST, "127.0.0.1"), (PORT, str(port)),
                         (GUID, guid), (SECRET, secret),
                         (CREDENTIALS_FILE, str(sim.payload_credentials_file))):
        values.update(dict.fromkeys(group, value))
    if camera is not None:
        values.update(dict.fromkeys(CAMERA, camera))
    values.update({f"CAMERA{number}": value for number, value in enumerate(cameras, 1)})
    argv = [values.get(token, token) for token in line.argv.split()]
    if camera is not None and not line.has_camera:
        argv += ["--device-name", camera]
    if "--port" not in argv:
        argv += ["--port", str(port)]
    return argv


class ExampleRun:
    """``python -m camera_service ARGV`` under ``python -m robot_sim exec`` (the SDK points
    at ``sim``); stderr lines are kept in ``lines``. Use as a context manager."""

    def __init__(self, sim, argv: List[str]) -> None:
        self.argv = argv
        self.command = [sys.executable, "-m", "robot_sim", "exec", "--state-dir",
                        str(sim.state_dir), "--", sys.executable, "-m", "camera_service",
                        *argv]
        path = os.pathsep.join([str(REPO / "service"), str(REPO),
                                os.environ.get("PYTHONPATH", "")])
        self._env = {**os.environ, "PYTHONPATH": path, "GRPC_VERBOSITY": "ERROR"}
        self.process: Optional[subprocess.Popen] = None
        self.lines: List[str] = []
        self._reader: Optional[threading.Thread] = None

    def __enter__(self) -> ExampleRun:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=self._env,
                                        cwd=REPO)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM (as Ctrl+C or ``docker stop``), SIGKILL after ``timeout``; exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        return self.process.returncode

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
