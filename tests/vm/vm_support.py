"""Helpers shared by the VM scenarios: figures, guest files, waiting, the tablet client.

The robot simulator runs on the host (loopback); the guest reaches it at ``10.0.2.2`` (qemu's
user-mode network maps that to host 127.0.0.1). A service in the guest registers
``127.0.0.1:<port>`` and the harness forwards that host port into the guest, so the
simulator's routing reaches it like a robot reaches a payload.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import time
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np
import yaml
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, build_image_request

from devtools.demo import free_port_in_firewall_range
from devtools.polling import wait_for
from vm.machine import GUEST_HOST_ADDRESS, GUEST_PYTHON, GUEST_PYTHON_ENV, GUEST_XFER, Machine

#: (scenario, seconds or value) in the order measured; printed at the end of the session.
FIGURES: List[Tuple[str, str]] = []
#: The CORE I/O firewall admits 21000-22000 (21443 reserved).
SERVICE_PORT_RANGE = (21000, 22000)
#: Under software emulation the service's imports (OpenCV, bosdyn) take a while.
START_TIMEOUT = 240.0


def record(scenario: str, seconds: float) -> float:
    """Remember a measured time for the end-of-session summary; returns it."""
    FIGURES.append((scenario, f"{seconds:8.1f} s"))
    return seconds


def note(scenario: str, value: str) -> None:
    """Remember a measured non-time fact (e.g. the negotiated V4L2 format)."""
    FIGURES.append((scenario, value))


def free_service_port() -> int:
    """A port in the CORE I/O range from 21700 that is free on host loopback (forwarded 1:1
    to the VM)."""
    return free_port_in_firewall_range(SERVICE_PORT_RANGE[0] + 700,
                                       low=SERVICE_PORT_RANGE[0] + 700)


def share_robot_files(machine: Machine, robot) -> Dict[str, str]:
    """Copy the simulator's CA and payload credentials into the transfer share.

    Returns their guest paths as ``{"ca": ..., "credentials": ...}``.
    """
    ca = machine.share(Path(robot.ca_cert), "robot-ca.pem")
    credentials = machine.share(Path(robot.payload_credentials_file), "payload_guid_and_secret")
    return {"ca": ca, "credentials": credentials}


def robot_section(robot, ca_path: str, credentials_path: str | None = None) -> Dict:
    """The ``robot:`` config section pointing a guest service at the host's simulator."""
    section = {"hostname": GUEST_HOST_ADDRESS, "port": robot.port, "ca_cert": ca_path,
               "host_ip": "127.0.0.1"}
    if credentials_path:
        section["payload_credentials_file"] = credentials_path
    return section


def write_guest_yaml(machine: Machine, name: str, document: Dict) -> str:
    """Write ``document`` as YAML into the transfer share; returns its guest path."""
    (machine.xfer_dir / name).write_text(yaml.safe_dump(document, sort_keys=False))
    return f"{GUEST_XFER}/{name}"


def image_client(robot, service_name: str) -> ImageClient:
    """An ImageClient reaching the guest service through the simulator, like the tablet."""
    sdk_robot = robot.sdk_robot("vm-tablet")
    sdk_robot.sync_with_directory()  # learn the payload's service (the tablet does the same)
    return sdk_robot.ensure_client(service_name)


def jpeg_frames(client: ImageClient, source: str, window: float) -> Tuple[int, np.ndarray]:
    """Poll GetImage (JPEG) for ``window`` seconds like the tablet.

    Returns (distinct frames seen, last decoded image). Fails on a non-OK response.
    """
    request = build_image_request(source, image_format=image_pb2.Image.FORMAT_JPEG)
    stamps = set()
    decoded = None
    end = time.monotonic() + window
    while time.monotonic() < end:
        response = client.get_image([request], timeout=10)[0]
        assert response.status == image_pb2.ImageResponse.STATUS_OK, response.status
        shot = response.shot
        assert shot.image.format == image_pb2.Image.FORMAT_JPEG
        stamps.add((shot.acquisition_time.seconds, shot.acquisition_time.nanos))
        decoded = cv2.imdecode(np.frombuffer(shot.image.data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None, "GetImage returned bytes that are not a JPEG"
        assert (shot.image.cols, shot.image.rows) == (decoded.shape[1], decoded.shape[0])
    return len(stamps), decoded


def fault_names(robot) -> List[str]:
    """Names of the simulator's active service faults."""
    return [fault.fault_id.fault_name for fault in robot.active_faults()]


_GRANTED = re.compile(r"(?P<fourcc>[A-Z0-9 ]{4}) (?P<width>\d+)x(?P<height>\d+) @(?P<fps>[\d.]+) "
                      r"fps on (?P<node>/dev/video\d+)")


def negotiated_formats(log_text: str) -> List[Dict[str, str]]:
    """The ``<FOURCC> <W>x<H> @<fps> fps on /dev/videoN`` lines the V4L2 source logs at open."""
    return [match.groupdict() for match in _GRANTED.finditer(log_text)]


def copy_guest_log(machine: Machine, guest_path: str, host_name: str) -> str:
    """Copy a guest file into the run folder (for failure reports); returns its text."""
    text = machine.run(f"cat {guest_path} 2>/dev/null || true", check=False).stdout
    (machine.run_dir / host_name).write_text(text)
    return text


class NativeService:
    """The service run from the shared tree in the guest (detached, log in the guest's /run),
    serving ``sources`` under directory name ``name``, registered with the host's robot
    simulator. ``tag`` names its config, log and pid files."""

    def __init__(self, machine: Machine, robot, port: int, name: str, sources: List[Dict],
                 tag: str = "camera-service") -> None:
        self.machine = machine
        self.robot = robot
        self.port = port
        self.name = name
        self.sources = sources
        self.tag = tag
        self.guest_log = f"/run/{tag}.log"
        self.guest_pid = f"/run/{tag}.pid"

    def start(self) -> float:
        """Start it; returns the seconds until it is registered."""
        files = share_robot_files(self.machine, self.robot)
        config = {
            "robot": robot_section(self.robot, files["ca"], files["credentials"]),
            "service": {"port": self.port, "name": self.name, "authority": self.name},
            "log_level": "info",
            "sources": self.sources,
        }
        guest_config = write_guest_yaml(self.machine, f"{self.tag}.yaml", config)
        env = " ".join(f"{key}={value}" for key, value in GUEST_PYTHON_ENV.items())
        started = time.monotonic()
        self.machine.run(
            f"nohup sh -c 'echo $$ > {self.guest_pid}; exec env {env} {GUEST_PYTHON} -m "
            f"camera_service --config {guest_config}' > {self.guest_log} 2>&1 &")
        self.robot.wait_for_service(self.name, timeout=START_TIMEOUT)
        return time.monotonic() - started

    def pid(self) -> str:
        return self.machine.run(f"cat {self.guest_pid}").stdout.strip()

    def alive(self) -> bool:
        return self.machine.run(f"kill -0 $(cat {self.guest_pid})", check=False).returncode == 0

    def log(self) -> str:
        return copy_guest_log(self.machine, self.guest_log, f"{self.tag}.log")

    def counters(self, around: str = "{signal}") -> Dict:
        """The pipeline counters, as the service logs them on SIGUSR1 (see ``new_counters``);
        ``around`` is the guest command that sends it, ``{signal}`` standing for the kill."""
        before = self.log().count(COUNTERS_LINE)
        self.machine.run(around.format(signal=f"kill -USR1 {self.pid()}"))
        return wait_for(lambda: new_counters(self.log(), before), 30,
                          f"the counters of {self.name}", interval=0.3)

    def cpu_seconds(self) -> float:
        """User + system CPU time the service process has used so far."""
        return process_cpu_seconds(self.machine, self.pid())

    def stop(self) -> None:
        self.machine.run(f"kill $(cat {self.guest_pid}) 2>/dev/null; sleep 2; "
                         f"kill -9 $(cat {self.guest_pid}) 2>/dev/null; true", check=False)


COUNTERS_LINE = "counters: {"


def new_counters(log_text: str, before: int) -> Dict | None:
    """The counters of the latest SIGUSR1 log line once there are more than ``before``, with
    ``"at"``: the line's time (the guest's clock, UTC; seconds since the epoch)."""
    lines = [line for line in log_text.splitlines() if COUNTERS_LINE in line]
    if len(lines) <= before:
        return None
    logged = datetime.datetime.strptime(lines[-1][:23], "%Y-%m-%d %H:%M:%S,%f")
    return {**json.loads(lines[-1].split("counters: ", 1)[1]),
            "at": logged.replace(tzinfo=datetime.timezone.utc).timestamp()}


def process_cpu_seconds(machine: Machine, pid: str) -> float:
    """User + system CPU seconds of guest process ``pid`` (from /proc/<pid>/stat)."""
    fields = machine.run(f"cat /proc/{pid}/stat; getconf CLK_TCK").stdout.split("\n")
    stat, ticks = fields[0], float(fields[1])
    after_name = stat.rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / ticks  # utime, stime


def keep_figures_file(path: Path) -> None:
    """Write FIGURES to ``path`` (the run folder keeps them after the session)."""
    lines = [f"{value}  {scenario}" for scenario, value in FIGURES]
    path.write_text("\n".join(lines) + "\n")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
