"""Service faults on the robot for cameras that stop delivering.

The desired set of faults is read from the cameras' ``CameraState``s (one fault per failing
camera, its reason as the message); ``sync`` (called by ``RobotLink``) makes the robot match
it. Sync is idempotent (an already active or already cleared fault is fine) and
after the robot was away every fault is pushed again, since a rebooted robot forgot them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Dict, Protocol, Sequence

from bosdyn.api import service_fault_pb2
from bosdyn.client.fault import (
    FaultClient,
    ServiceFaultAlreadyExistsError,
    ServiceFaultDoesNotExistError,
)

from camera_service.capture.camera_state import CameraState
from camera_service.core.redaction import scrub

_LOG = logging.getLogger(__name__)


def fault_name(camera: str) -> str:
    """The fault name used for ``camera`` (stable, so it can be cleared)."""
    return f"camera {camera} not delivering"


class CameraStates(Protocol):
    """The running cameras as the reporter reads them (``capture.cameras.Cameras``)."""

    def states(self) -> Sequence[CameraState]: ...


class FaultReporter:
    """What the robot has been told about ``cameras``' failures.

    ``desired()`` (camera -> reason, read from the states of the cameras running now: a
    removed camera's fault is cleared by the next ``sync``) is observable by tests and
    benchmarks; whoever changes a camera's state wakes the link, which calls ``sync``.
    """

    def __init__(self, service_name: str, cameras: CameraStates) -> None:
        self.service_name = service_name
        self.payload_guid = ""
        self._cameras = cameras
        self._lock = threading.Lock()
        self._on_robot: Dict[str, str] = {}  # faults the robot is known to have active
        self._robot_knows = False  # False after a robot outage: push everything again

    def desired(self) -> Dict[str, str]:
        """The faults that should be active: failing camera -> reason."""
        statuses = (camera.status() for camera in self._cameras.states())
        return {status.name: status.failure for status in statuses if status.failure}

    def in_sync(self) -> bool:
        desired = self.desired()
        with self._lock:
            return self._robot_knows and desired.keys() == self._on_robot.keys()

    def robot_forgot(self) -> None:
        """The robot was unreachable: assume it may have rebooted and lost its faults."""
        with self._lock:
            self._robot_knows = False

    def fault_id(self, camera: str) -> service_fault_pb2.ServiceFaultId:
        return service_fault_pb2.ServiceFaultId(fault_name=fault_name(camera),
                                                service_name=self.service_name,
                                                payload_guid=self.payload_guid)

    def sync(self, client: FaultClient, timeout: float) -> None:
        """Make the robot's faults match the desired set. Raises the SDK's errors."""
        desired = self.desired()
        with self._lock:
            on_robot = dict(self._on_robot) if self._robot_knows else {}
            full = not self._robot_knows
        if full:
            # Anything this service raised before (earlier run, before a reboot) goes first.
            self._clear_all(client, timeout)
        for camera, reason in desired.items():
            if on_robot.get(camera) is None:
                self._trigger(client, camera, reason, timeout)
        for camera in on_robot:
            if camera not in desired:
                self._clear(client, camera, timeout)
        with self._lock:
            self._on_robot = desired
            self._robot_knows = True

    def clear_all(self, client: FaultClient, timeout: float) -> None:
        """Shutdown: clear every fault of this service on the robot."""
        self._clear_all(client, timeout)
        with self._lock:
            self._on_robot = {}

    def _trigger(self, client: FaultClient, camera: str, reason: str, timeout: float) -> None:
        fault = service_fault_pb2.ServiceFault(
            fault_id=self.fault_id(camera), error_message=scrub(reason)[:500],
            attributes=["camera"], severity=service_fault_pb2.ServiceFault.SEVERITY_WARN)
        try:
            client.trigger_service_fault(fault, timeout=timeout)
            _LOG.info("raised robot fault %r", fault_name(camera))
        except ServiceFaultAlreadyExistsError:
            pass

    def _clear(self, client: FaultClient, camera: str, timeout: float) -> None:
        try:
            client.clear_service_fault(self.fault_id(camera), timeout=timeout)
            _LOG.info("cleared robot fault %r", fault_name(camera))
        except ServiceFaultDoesNotExistError:
            pass

    def _clear_all(self, client: FaultClient, timeout: float) -> None:
        fault_id = service_fault_pb2.ServiceFaultId(service_name=self.service_name,
                                                    payload_guid=self.payload_guid)
        with contextlib.suppress(ServiceFaultDoesNotExistError):
            client.clear_service_fault(fault_id, clear_all_service_faults=True, timeout=timeout)
