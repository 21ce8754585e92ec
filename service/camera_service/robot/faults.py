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

Flapping is damped (``FlapDamping``): a fault is raised the moment its camera fails, and
cleared the moment it is back - unless the camera failed again within ``window`` seconds of
its last clear. Then the fault is held until the camera has delivered for ``hold`` seconds
without a break, a hold that starts at ``first_hold`` and doubles with each further flap (up
to ``max_hold``). A camera flapping every second shows one steady fault on the robot instead
of ~58 changes a minute; ``next_sync_in`` tells the link when a held fault is due.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple

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


@dataclass(frozen=True)
class FlapDamping:
    """How long a flapping camera's fault is held after it is back (seconds)."""

    window: float = 60.0  # a failure this soon after a clear counts as a flap
    first_hold: float = 5.0
    max_hold: float = 60.0


@dataclass
class _Flaps:
    """One camera's recent history: when its fault was last cleared, the hold it has
    earned, and since when it has been delivering while its fault is held."""

    last_clear: Optional[float] = None
    hold: float = 0.0
    healthy_since: Optional[float] = None


class CameraStates(Protocol):
    """The running cameras as the reporter reads them (``capture.cameras.Cameras``)."""

    def states(self) -> Sequence[CameraState]: ...


class FaultReporter:
    """What the robot has been told about ``cameras``' failures.

    ``desired()`` (camera -> reason, read from the states of the cameras running now: a
    removed camera's fault is cleared by the next ``sync``) is observable by tests and
    benchmarks; whoever changes a camera's state wakes the link, which calls ``sync``.
    """

    def __init__(self, service_name: str, cameras: CameraStates,
                 damping: FlapDamping = FlapDamping(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service_name = service_name
        self.damping = damping
        self._clock = clock
        self._flaps: Dict[str, _Flaps] = {}  # camera -> its history (sync's thread only)
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
        """Make the robot's faults match the desired set, flapping cameras' faults held
        (``FlapDamping``). Raises the SDK's errors."""
        self.log.flush()
        desired = self._desired_all()
        with self._lock:
            registered = self._registration_count()
            if registered != self._synced_registration:
                self._robot_knows = False  # a fresh entry on the robot: no faults on it
            raised = dict(self._on_robot)  # what this service raised (the robot may forget)
            on_robot = raised if self._robot_knows else {}
            full = not self._robot_knows
        wanted = self._with_held(desired, raised)
        if full:
            # Anything this service raised before (earlier run, before a reboot) goes first.
            self._clear_all(client, timeout)
        for key, reason in wanted.items():
            if on_robot.get(key) is None:
                self._trigger(client, key, reason, timeout)
        for key in on_robot:
            if key not in wanted:
                self._clear(client, key, timeout)
        with self._lock:
            self._on_robot = wanted
            self._robot_knows = True
            self._synced_registration = registered

    def next_sync_in(self) -> Optional[float]:
        """Seconds until a held fault may be cleared (the link syncs then), or None."""
        now = self._clock()
        due = [flaps.healthy_since + flaps.hold - now for flaps in self._flaps.values()
               if flaps.healthy_since is not None]
        return max(0.0, min(due)) if due else None

    def _with_held(self, desired: Dict[Tuple[str, str], str],
                   before: Dict[Tuple[str, str], str]) -> Dict[Tuple[str, str], str]:
        """``desired`` plus the faults of running cameras that are back but still owe
        their hold; updates each camera's flap history."""
        now, damping = self._clock(), self.damping
        failing = {camera for _, camera in desired}
        running = {state.name for state in self._cameras.states()}
        wanted = dict(desired)
        raised_before = {camera for _, camera in before}
        for camera in set(self._flaps) - running:
            del self._flaps[camera]  # removed: its fault goes at once, its history too
        for camera in failing - raised_before:  # raised now: a flap if it was just cleared
            flaps = self._flaps.setdefault(camera, _Flaps())
            flapped = flaps.last_clear is not None and now - flaps.last_clear < damping.window
            flaps.hold = (min(damping.max_hold, max(damping.first_hold, 2 * flaps.hold))
                          if flapped else 0.0)
        for camera in failing:
            self._flaps.setdefault(camera, _Flaps()).healthy_since = None
        for camera in (raised_before & running) - failing:
            flaps = self._flaps.setdefault(camera, _Flaps())
            if flaps.healthy_since is None:
                flaps.healthy_since = now
                if flaps.hold > 0:
                    self.log.state(f"hold {camera}", "held",
                                   f"camera {camera} is back but flapping: its robot fault "
                                   f"stays until it has delivered for {flaps.hold:.0f} s",
                                   logging.INFO)
            if now - flaps.healthy_since < flaps.hold:
                wanted.update({key: reason for key, reason in before.items()
                               if key[1] == camera})
            else:
                flaps.last_clear, flaps.healthy_since = now, None
        return wanted

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
