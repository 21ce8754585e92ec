"""Remote control of a simulator running in another process (``RobotSimulatorProcess``).

The simulator process listens on a loopback TCP port (not the robot's port, so it stays
reachable while the robot is "down") for JSON lines ``{"secret", "op", "args"}`` and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Port and secret are in
``DIR/control.json`` (mode 0600). Protobuf results travel base64-encoded.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

from bosdyn.api import directory_pb2, service_fault_pb2

LOG = logging.getLogger("robot_sim")
CONTROL_JSON = "control.json"


def _encode(messages) -> List[str]:
    return [base64.b64encode(m.SerializeToString()).decode("ascii") for m in messages]


def _decode(message_type, encoded: List[str]) -> list:
    return [message_type.FromString(base64.b64decode(e)) for e in encoded]


def _operations(simulator) -> Dict[str, Callable[..., Any]]:
    return {
        "reboot": simulator.reboot,
        "refuse_connections": simulator.refuse_connections,
        "set_latency": simulator.set_latency,
        "add_payload": simulator.add_payload,
        "set_payload_authorized": simulator.set_payload_authorized,
        "set_payload_pose": simulator.set_payload_pose,
        "serving": lambda: simulator.serving,
        "directory_entries": lambda: _encode(simulator.directory_entries()),
        "active_faults": lambda: _encode(simulator.active_faults()),
    }


class ControlServer:
    """Serves the control protocol for ``simulator`` until ``close``."""

    def __init__(self, simulator, state_dir: Path) -> None:
        operations = _operations(simulator)
        secret = secrets.token_urlsafe(16)

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    self.wfile.write(json.dumps(_answer(line, secret, operations)).encode()
                                     + b"\n")
                    self.wfile.flush()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        path = state_dir / CONTROL_JSON
        path.write_text(json.dumps({"port": self._server.server_address[1], "secret": secret}))
        path.chmod(0o600)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="robot_sim-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving control requests."""
        self._server.shutdown()
        self._server.server_close()


def _answer(line: bytes, secret: str, operations: Dict[str, Callable[..., Any]]) -> dict:
    try:
        request = json.loads(line)
        if not secrets.compare_digest(str(request.get("secret", "")), secret):
            return {"ok": False, "error": "bad control secret"}
        operation = operations[request["op"]]
        return {"ok": True, "result": operation(**request.get("args", {}))}
    except KeyError as exc:
        return {"ok": False, "error": f"unknown operation or payload: {exc}"}
    except Exception as exc:
        LOG.warning("control request failed: %s", exc)
        return {"ok": False, "error": str(exc)}


class ControlError(RuntimeError):
    """The simulator process refused or failed a control request."""


class ControlClient:
    """Talks to the ``ControlServer`` of the simulator whose state is in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        info = json.loads((state_dir / CONTROL_JSON).read_text())
        self._port = int(info["port"])
        self._secret = info["secret"]
        self._lock = threading.Lock()

    def call(self, op: str, **args: Any) -> Any:
        """Run ``op`` in the simulator process; raises ControlError on failure."""
        request = json.dumps({"secret": self._secret, "op": op, "args": args}).encode() + b"\n"
        with self._lock, socket.create_connection(("127.0.0.1", self._port), timeout=30) as conn:
            conn.sendall(request)
            answer = json.loads(conn.makefile("rb").readline() or b"{}")
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "no answer from the simulator process"))
        return answer.get("result")

    def directory_entries(self) -> List[directory_pb2.ServiceEntry]:
        return _decode(directory_pb2.ServiceEntry, self.call("directory_entries"))

    def active_faults(self) -> List[service_fault_pb2.ServiceFault]:
        return _decode(service_fault_pb2.ServiceFault, self.call("active_faults"))
