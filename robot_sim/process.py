"""``RobotSimulatorProcess``: the simulator as a child process (``python -m robot_sim``).

Same attributes and methods as ``RobotSimulator``; life events and queries go through the
control port (``robot_sim.control``). Its log goes to ``state_dir/robot_sim.log``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import List, Sequence, Union

from bosdyn.api import directory_pb2, service_fault_pb2

from robot_sim.control import ControlClient
from robot_sim.handle import ROBOT_JSON, SimulatorHandle

LOG_FILE = "robot_sim.log"


class RobotSimulatorProcess(SimulatorHandle):
    """Runs ``python -m robot_sim --state-dir DIR --port PORT --bind BIND [extra_args]``."""

    def __init__(self, state_dir: Union[str, Path, None] = None, port: int = 0,
                 bind: str = "127.0.0.1", extra_args: Sequence[str] = (),
                 start_timeout: float = 30) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="robot_sim-"))
        self._command = [sys.executable, "-m", "robot_sim", "--state-dir", str(self.state_dir),
                         "--port", str(port), "--bind", bind, *extra_args]
        self._start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self._control: ControlClient | None = None

    def start(self) -> RobotSimulatorProcess:
        """Start the process and wait for its ``ready`` line. Raises RuntimeError."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        stale = self.state_dir / ROBOT_JSON
        if stale.exists():
            stale.unlink()
        with open(self.state_dir / LOG_FILE, "ab") as log:
            self.process = subprocess.Popen(self._command, stdout=subprocess.PIPE, stderr=log)
        ready = threading.Event()
        threading.Thread(target=self._read_stdout, args=(ready,), daemon=True).start()
        if not ready.wait(self._start_timeout) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("robot simulator did not start; see " +
                               str(self.state_dir / LOG_FILE))
        self._load_facts(json.loads((self.state_dir / ROBOT_JSON).read_text()))
        self._control = ControlClient(self.state_dir)
        return self

    def _read_stdout(self, ready: threading.Event) -> None:
        for line in self.process.stdout:
            if b"ready" in line:
                ready.set()

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    @property
    def serving(self) -> bool:
        """True while the robot accepts connections."""
        return bool(self._control.call("serving"))

    def reboot(self, down_seconds: float = 1.0, invalidate_tokens: bool = False) -> None:
        """See ``RobotSimulator.reboot``."""
        self._control.call("reboot", down_seconds=down_seconds,
                           invalidate_tokens=invalidate_tokens)

    def refuse_connections(self, seconds: float) -> None:
        """See ``RobotSimulator.refuse_connections``."""
        self._control.call("refuse_connections", seconds=seconds)

    def set_latency(self, seconds: float, service: str | None = None) -> None:
        """See ``RobotSimulator.set_latency``."""
        self._control.call("set_latency", seconds=seconds, service=service)

    def add_payload(self, guid: str, secret: str, authorized: bool = True) -> None:
        """See ``RobotSimulator.add_payload``."""
        self._control.call("add_payload", guid=guid, secret=secret, authorized=authorized)

    def set_payload_authorized(self, guid: str, authorized: bool) -> None:
        """See ``RobotSimulator.set_payload_authorized``."""
        self._control.call("set_payload_authorized", guid=guid, authorized=authorized)

    def set_payload_pose(self, guid: str, xyz, quaternion=(1.0, 0.0, 0.0, 0.0)) -> None:
        """See ``RobotSimulator.set_payload_pose``."""
        self._control.call("set_payload_pose", guid=guid, xyz=list(xyz),
                           quaternion=list(quaternion))

    def directory_entries(self) -> List[directory_pb2.ServiceEntry]:
        """See ``RobotSimulator.directory_entries``."""
        return self._control.directory_entries()

    def active_faults(self) -> List[service_fault_pb2.ServiceFault]:
        """See ``RobotSimulator.active_faults``."""
        return self._control.active_faults()
