"""Service faults on the robot for cameras that stop delivering.

The desired set of faults is read from the cameras' ``CameraState``s (one fault per failing
camera, its reason as the message); ``sync`` (called by ``RobotLink``) makes the robot match
it. Sync is idempotent (an already active or already cleared fault is fine) and
after the robot was away every fault is pushed again, since a rebooted robot forgot them.
A second service of the same process (the clips plugin, ``also_for``) gets the same fault,
under its own service name, for each failing camera it serves.
The faults belong to the service's directory entry: unregistering drops them on the robot.
The reporter follows the registration (``follow``): after every fresh registration (a
republished source list, a robot reboot) the next ``sync`` pushes every fault again, so a
camera that is faulted is faulted on the robot whoever re-registered and why.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Callable, Dict, List, Protocol, Sequence, Tuple

from bosdyn.api import service_fault_pb2
from bosdyn.client.fault import (
    FaultClient,
    ServiceFaultAlreadyExistsError,
    ServiceFaultDoesNotExistError,
)

from camera_service.capture.camera_state import CameraState
from camera_service.core.rate_limited_log import RateLimitedLog
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
        # faults the robot is known to have active: (service name, camera) -> reason
        self._on_robot: Dict[Tuple[str, str], str] = {}
        self._robot_knows = False  # False after a robot outage: push everything again
        self._others: List[Tuple[str, Callable[[str], bool]]] = []
        self._registration = None  # what the faults hang on (``follow``)
        # a camera flapping every second: a few lines a minute (core.rate_limited_log)
        self.log = RateLimitedLog(60.0, _LOG, burst=4)
        self._synced_registration = -1  # its ``registrations`` at the last sync

    def also_for(self, service_name: str, serves: Callable[[str], bool]) -> None:
        """Fault ``service_name`` too for each failing camera ``serves(camera)`` accepts."""
        with self._lock:
            self._others.append((service_name, serves))

    def _services(self) -> List[str]:
        with self._lock:
            return [self.service_name] + [name for name, _ in self._others]

    def _desired_all(self) -> Dict[Tuple[str, str], str]:
        """(service name, camera) -> reason for every fault that should be active."""
        desired = self.desired()
        with self._lock:
            others = list(self._others)
        wanted = {(self.service_name, camera): reason for camera, reason in desired.items()}
        for service, serves in others:
            wanted.update({(service, camera): reason for camera, reason in desired.items()
                           if serves(camera)})
        return wanted

    def follow(self, registration) -> None:
        """Tie the faults to ``registration`` (a ``robot.registration.Registration``): each
        fresh registration it counts (``registrations``) means the robot holds none of this
        service's faults, and the next ``sync`` raises them all again."""
        with self._lock:
            self._registration = registration

    def _registration_count(self) -> int:
        registration = self._registration
        return getattr(registration, "registrations", 0) if registration is not None else 0

    def desired(self) -> Dict[str, str]:
        """The faults that should be active: failing camera -> reason."""
        statuses = (camera.status() for camera in self._cameras.states())
        return {status.name: status.failure for status in statuses if status.failure}

    def in_sync(self) -> bool:
        desired = self._desired_all()
        with self._lock:
            return (self._robot_knows and desired.keys() == self._on_robot.keys()
                    and self._synced_registration == self._registration_count())

    def robot_forgot(self) -> None:
        """The robot was unreachable: assume it may have rebooted and lost its faults."""
        with self._lock:
            self._robot_knows = False

    def fault_id(self, camera: str, service: str | None = None
                 ) -> service_fault_pb2.ServiceFaultId:
        return service_fault_pb2.ServiceFaultId(fault_name=fault_name(camera),
                                                service_name=service or self.service_name,
                                                payload_guid=self.payload_guid)

    def sync(self, client: FaultClient, timeout: float) -> None:
        """Make the robot's faults match the desired set. Raises the SDK's errors."""
        self.log.flush()
        desired = self._desired_all()
        with self._lock:
            registered = self._registration_count()
            if registered != self._synced_registration:
                self._robot_knows = False  # a fresh entry on the robot: no faults on it
            on_robot = dict(self._on_robot) if self._robot_knows else {}
            full = not self._robot_knows
        if full:
            # Anything this service raised before (earlier run, before a reboot) goes first.
            self._clear_all(client, timeout)
        for key, reason in desired.items():
            if on_robot.get(key) is None:
                self._trigger(client, key, reason, timeout)
        for key in on_robot:
            if key not in desired:
                self._clear(client, key, timeout)
        with self._lock:
            self._on_robot = desired
            self._robot_knows = True
            self._synced_registration = registered

    def clear_all(self, client: FaultClient, timeout: float) -> None:
        """Shutdown: clear every fault of this service on the robot."""
        self._clear_all(client, timeout)
        with self._lock:
            self._on_robot = {}

    def _trigger(self, client: FaultClient, key: Tuple[str, str], reason: str,
                 timeout: float) -> None:
        service, camera = key
        fault = service_fault_pb2.ServiceFault(
            fault_id=self.fault_id(camera, service), error_message=scrub(reason)[:500],
            attributes=["camera"], severity=service_fault_pb2.ServiceFault.SEVERITY_WARN)
        try:
            client.trigger_service_fault(fault, timeout=timeout)
            self.log.state(f"{service} {camera}", "raised",
                           f"raised robot fault {fault_name(camera)!r} of {service}",
                           logging.INFO)
        except ServiceFaultAlreadyExistsError:
            pass

    def _clear(self, client: FaultClient, key: Tuple[str, str], timeout: float) -> None:
        service, camera = key
        try:
            client.clear_service_fault(self.fault_id(camera, service), timeout=timeout)
            self.log.state(f"{service} {camera}", "cleared",
                           f"cleared robot fault {fault_name(camera)!r} of {service}",
                           logging.INFO)
        except ServiceFaultDoesNotExistError:
            pass

    def _clear_all(self, client: FaultClient, timeout: float) -> None:
        for service in self._services():
            fault_id = service_fault_pb2.ServiceFaultId(service_name=service,
                                                        payload_guid=self.payload_guid)
            with contextlib.suppress(ServiceFaultDoesNotExistError):
                client.clear_service_fault(fault_id, clear_all_service_faults=True,
                                           timeout=timeout)
