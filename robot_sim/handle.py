"""What every way of running the simulator offers a test: connection facts and helpers.

``RobotSimulator`` (in-process) and ``RobotSimulatorProcess`` (subprocess) both derive from
``SimulatorHandle``; they differ only in how life events and queries reach the robot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List

from bosdyn.api import directory_pb2, service_fault_pb2

ROBOT_JSON = "robot.json"
PAYLOAD_CREDENTIALS_FILE = "payload_guid_and_secret"


class SimulatorHandle:
    """Connection facts (as written to ``robot.json``) and SDK conveniences."""

    state_dir: Path
    address: str = ""
    port: int = 0
    rest_port: int = 0
    ca_cert: Path
    username: str = ""
    password: str = ""
    payload_credentials_file: Path
    payload_guid: str = ""

    def _load_facts(self, facts: Dict[str, Any]) -> None:
        self.address = facts["address"]
        self.port = int(facts["port"])
        self.rest_port = int(facts.get("rest_port", 0))
        self.ca_cert = Path(facts["ca_cert"])
        self.username = facts["username"]
        self.password = facts["password"]
        self.payload_credentials_file = Path(facts["payload_credentials_file"])
        self.payload_guid = self.payload_credentials_file.read_text().splitlines()[0].strip()

    def facts(self) -> Dict[str, Any]:
        """The content of ``robot.json``."""
        return {
            "address": self.address,
            "port": self.port,
            "rest_port": self.rest_port,
            "ca_cert": str(self.ca_cert),
            "username": self.username,
            "password": self.password,
            "payload_credentials_file": str(self.payload_credentials_file),
        }

    @property
    def rest_hostname(self) -> str:
        """``address:rest_port``: the hostname to give SDK helpers that talk to the robot's
        HTTPS REST endpoints, e.g. ``bosdyn.client.data_acquisition_helpers.download_data_REST``
        (the real robot serves them on 443, the simulator on a port of its own)."""
        return f"{self.address}:{self.rest_port}"

    def sdk_robot(self, name: str = "client", authenticate: bool = True):
        """A ``bosdyn.client.Robot`` pointed at the simulator (user-authenticated by default)."""
        from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot

        robot = make_sdk_robot(RobotTarget(self.address, self.port, str(self.ca_cert)), name)
        if authenticate:
            robot.authenticate(self.username, self.password)
        return robot

    # Lifetime and queries provided by the concrete class.
    def start(self) -> SimulatorHandle:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def serving(self) -> bool:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_until_serving(self, timeout: float = 10) -> None:
        """Block until the robot accepts connections. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while not self.serving:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"robot simulator not serving after {timeout:g} s")
            time.sleep(0.02)

    def directory_entries(self) -> List[directory_pb2.ServiceEntry]:
        raise NotImplementedError

    def active_faults(self) -> List[service_fault_pb2.ServiceFault]:
        raise NotImplementedError

    def wait_for_service(self, name: str, timeout: float = 10) -> directory_pb2.ServiceEntry:
        """The directory entry ``name`` once it exists. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self._find_entry(name)
            if entry is not None:
                return entry
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"service {name!r} not in the robot directory after {timeout:g} s")
            time.sleep(0.05)

    def _find_entry(self, name: str) -> directory_pb2.ServiceEntry | None:
        return next((e for e in self.directory_entries() if e.name == name), None)


def write_facts(state_dir: Path, facts: Dict[str, Any]) -> Path:
    """Write ``robot.json`` atomically (readers never see half a file)."""
    path = state_dir / ROBOT_JSON
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts, indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
