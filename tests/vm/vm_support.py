"""Helpers shared by the VM scenarios: figures, guest files, waiting, the tablet client.

The robot simulator runs on the host (loopback); the guest reaches it at ``10.0.2.2`` (qemu's
user-mode network maps that to host 127.0.0.1). A service in the guest registers
``127.0.0.1:<port>`` and the harness forwards that host port into the guest, so the
simulator's routing reaches it like a robot reaches a payload.
"""

from __future__ import annotations

import re
import shutil
import socket
import time
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np
import yaml
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, build_image_request

from vm.machine import GUEST_HOST_ADDRESS, GUEST_XFER, Machine

#: (scenario, seconds or value) in the order measured; printed at the end of the session.
FIGURES: List[Tuple[str, str]] = []
#: The CORE I/O firewall admits 21000-22000 (21443 reserved).
SERVICE_PORT_RANGE = (21000, 22000)


def record(scenario: str, seconds: float) -> float:
    """Remember a measured time for the end-of-session summary; returns it."""
    FIGURES.append((scenario, f"{seconds:8.1f} s"))
    return seconds


def note(scenario: str, value: str) -> None:
    """Remember a measured non-time fact (e.g. the negotiated V4L2 format)."""
    FIGURES.append((scenario, value))


def free_service_port() -> int:
    """A port in the CORE I/O range that is free on host loopback (forwarded 1:1 to the VM)."""
    for port in range(SERVICE_PORT_RANGE[0] + 700, SERVICE_PORT_RANGE[1]):
        if port == 21443:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 21700-22000 on host loopback")


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


def keep_figures_file(path: Path) -> None:
    """Write FIGURES to ``path`` (the run folder keeps them after the session)."""
    lines = [f"{value}  {scenario}" for scenario, value in FIGURES]
    path.write_text("\n".join(lines) + "\n")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
