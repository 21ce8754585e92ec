"""Everything the simulated robot remembers: accounts, directory, service faults.

One ``RobotState`` is shared by all servicers and survives simulated reboots (a reboot calls
``forget_registrations``). All methods are thread-safe.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from bosdyn.api import directory_pb2, geometry_pb2, payload_pb2, service_fault_pb2

from robot_sim.clock import RobotClock
from robot_sim.tokens import TokenAuthority

LOG = logging.getLogger("robot_sim")

AUTHORITY_SUFFIX = ".spot.robot"
#: Fault raised for a registered service whose keep-alive stopped past its liveness timeout.
LIVENESS_FAULT_NAME = "service_liveness_timeout"

ROBOT_SERVICES: Tuple[Tuple[str, str, str], ...] = (
    ("auth", "bosdyn.api.AuthService", "auth.spot.robot"),
    ("directory", "bosdyn.api.DirectoryService", "api.spot.robot"),
    ("directory-registration", "bosdyn.api.DirectoryRegistrationService", "api.spot.robot"),
    ("payload-registration", "bosdyn.api.PayloadRegistrationService",
     "payload-registration.spot.robot"),
    ("robot-id", "bosdyn.api.RobotIdService", "id.spot.robot"),
    ("payload", "bosdyn.api.PayloadService", "payload.spot.robot"),
    ("time-sync", "bosdyn.api.TimeSyncService", "api.spot.robot"),
    ("fault", "bosdyn.api.FaultService", "api.spot.robot"),
    ("robot-state", "bosdyn.api.RobotStateService", "api.spot.robot"),
    ("data-acquisition", "bosdyn.api.DataAcquisitionService", "api.spot.robot"),
    ("data-acquisition-store", "bosdyn.api.DataAcquisitionStoreService", "api.spot.robot"),
    ("data-buffer", "bosdyn.api.DataBufferService", "api.spot.robot"),
)
RESERVED_AUTHORITIES = frozenset(authority for _, _, authority in ROBOT_SERVICES)

FaultKey = Tuple[str, str, str]


def normalize_authority(authority: str) -> str:
    """``foo`` -> ``foo.spot.robot``; ``foo.spot.robot`` stays as is."""
    authority = authority.strip().lower()
    if authority and not authority.endswith(AUTHORITY_SUFFIX):
        authority += AUTHORITY_SUFFIX
    return authority


def fault_key(fault_id: service_fault_pb2.ServiceFaultId) -> FaultKey:
    """The identity of a service fault."""
    return (fault_id.fault_name, fault_id.service_name, fault_id.payload_guid)


@dataclass
class Registration:
    """A service registered by a client: its directory entry and where it is served."""

    entry: directory_pb2.ServiceEntry
    host: str
    port: int
    last_heartbeat: float  # time.monotonic()
    longest_silence: float = 0.0  # longest gap between two heartbeats (seconds)


@dataclass
class Payload:
    """A payload known to the robot."""

    secret: str
    authorized: bool
    # where the payload sits on the robot (set in the admin console); None = not set
    body_tform_payload: geometry_pb2.SE3Pose | None = None


class RobotState:
    """Accounts, directory, faults and the robot's clock and token authority."""

    def __init__(
        self,
        clock: RobotClock,
        username: str,
        password: str,
        serial_number: str = "sim-spot-0001",
        nickname: str = "robot-sim",
    ) -> None:
        self.clock = clock
        self.serial_number = serial_number
        self.nickname = nickname
        self.tokens = TokenAuthority(serial_number)
        self.liveness_faults_raised = 0  # every liveness fault ever raised (tests)
        self._fresh_registrations: Dict[str, int] = {}  # per name: new entries made (tests)
        self._lock = threading.RLock()
        self._users: Dict[str, str] = {username: password}
        self._payloads: Dict[str, Payload] = {}
        self._registrations: Dict[str, Registration] = {}
        self._faults: Dict[FaultKey, service_fault_pb2.ServiceFault] = {}
        self._robot_entries = [
            directory_pb2.ServiceEntry(
                name=name, type=service_type, authority=authority, user_token_required=name
                not in ("auth", "payload-registration", "robot-id"),
            )
            for name, service_type, authority in ROBOT_SERVICES
        ]
        self.boot_nsec = clock.now_nsec()

    # ----- accounts -------------------------------------------------------------------
    def check_login(self, username: str, password: str) -> bool:
        """True when ``username``/``password`` is a valid account."""
        with self._lock:
            expected = self._users.get(username)
        return expected is not None and secrets.compare_digest(expected, password)

    def add_payload(self, guid: str, secret: str, authorized: bool = True) -> None:
        """Make a payload known (as if registered and, optionally, authorized by an admin)."""
        with self._lock:
            self._payloads[guid] = Payload(secret=secret, authorized=authorized)
        LOG.info("payload %s added (authorized=%s)", guid, authorized)

    def set_payload_authorized(self, guid: str, authorized: bool) -> None:
        """Authorize or revoke a known payload. Raises KeyError for an unknown GUID."""
        with self._lock:
            self._payloads[guid].authorized = authorized
        LOG.info("payload %s authorized=%s", guid, authorized)

    def register_payload(self, guid: str, secret: str) -> bool:
        """Register a new, unauthorized payload; False when the GUID is already known."""
        with self._lock:
            if guid in self._payloads:
                return False
            self._payloads[guid] = Payload(secret=secret, authorized=False)
        LOG.info("payload %s registered (awaiting authorization)", guid)
        return True

    def set_payload_pose(self, guid: str, xyz: Sequence[float],
                         quaternion: Sequence[float] = (1.0, 0.0, 0.0, 0.0)) -> None:
        """Place a known payload on the body (as an admin does in the robot's web console):
        ``xyz`` in metres, ``quaternion`` ``(w, x, y, z)``. Raises KeyError for an unknown
        GUID."""
        w, x, y, z = quaternion
        pose = geometry_pb2.SE3Pose(position=geometry_pb2.Vec3(x=xyz[0], y=xyz[1], z=xyz[2]),
                                    rotation=geometry_pb2.Quaternion(w=w, x=x, y=y, z=z))
        with self._lock:
            self._payloads[guid].body_tform_payload = pose
        LOG.info("payload %s placed at xyz=%s", guid, list(xyz))

    def payload_list(self) -> List[payload_pb2.Payload]:
        """The robot's payload list (``PayloadService.ListPayloads``): GUID, authorization and
        mount pose (``body_tform_payload``, and ``mount_tform_payload`` in the body frame,
        ``MOUNT_FRAME_UNKNOWN``); never the secret."""
        with self._lock:
            known = list(self._payloads.items())
        listed = []
        for guid, payload in known:
            entry = payload_pb2.Payload(GUID=guid, name=f"payload {guid[:8]}",
                                        is_authorized=payload.authorized,
                                        is_enabled=payload.authorized)
            if payload.body_tform_payload is not None:
                entry.body_tform_payload.CopyFrom(payload.body_tform_payload)
                entry.mount_tform_payload.CopyFrom(payload.body_tform_payload)
                entry.mount_frame_name = payload_pb2.MOUNT_FRAME_UNKNOWN
            listed.append(entry)
        return listed

    def payload(self, guid: str, secret: str) -> Payload | None:
        """The payload when ``guid``/``secret`` match one; None otherwise."""
        with self._lock:
            payload = self._payloads.get(guid)
        if payload is None or not secrets.compare_digest(payload.secret, secret):
            return None
        return payload

    # ----- directory ------------------------------------------------------------------
    def directory_entries(self) -> List[directory_pb2.ServiceEntry]:
        """Copies of all directory entries: the robot's own services, then registered ones."""
        with self._lock:
            registered = [r.entry for r in self._registrations.values()]
            return [_copy(e) for e in (*self._robot_entries, *registered)]

    def directory_entry(self, name: str) -> directory_pb2.ServiceEntry | None:
        """A copy of the entry called ``name``, or None."""
        return next((e for e in self.directory_entries() if e.name == name), None)

    def registrations_of_type(self, service_type: str) -> List[Registration]:
        """Registered services of ``service_type`` (copies), in registration order."""
        with self._lock:
            return [Registration(_copy(r.entry), r.host, r.port, r.last_heartbeat)
                    for r in self._registrations.values() if r.entry.type == service_type]

    def fresh_registrations(self, name: str) -> int:
        """How often service ``name`` registered anew (not a heartbeat or an update); a
        reboot's forgetting does not reset it."""
        with self._lock:
            return self._fresh_registrations.get(name, 0)

    def registration(self, name: str) -> Registration | None:
        """The registration of service ``name`` (None when not registered)."""
        with self._lock:
            return self._registrations.get(name)

    def registration_for_authority(self, authority: str, service_type: str = ""
                                   ) -> Registration | None:
        """The registered service owning ``authority``, or None.

        Several services may share an authority with different types; the one whose type is
        ``service_type`` (the gRPC service of the call) wins, else the first registered.
        """
        with self._lock:
            matches = [r for r in self._registrations.values()
                       if r.entry.authority == authority]
        exact = [r for r in matches if r.entry.type == service_type]
        return (exact or matches or [None])[0]

    def register(
        self, entry: directory_pb2.ServiceEntry, host: str, port: int, payload_guid: str
    ) -> str:
        """Add a service. Returns "ok", "exists" (name or authority+type taken) or "invalid".

        A registration attempt for an existing name counts as that service's heartbeat.
        """
        entry = _copy(entry)
        entry.authority = normalize_authority(entry.authority)
        if not entry.name or not entry.type or not entry.authority or not host or port <= 0:
            return "invalid"
        if entry.authority in RESERVED_AUTHORITIES:
            return "invalid"
        with self._lock:
            if entry.name in self._registrations or any(e.name == entry.name
                                                        for e in self._robot_entries):
                self.heartbeat(entry.name)
                return "exists"
            for other in self._registrations.values():
                if (other.entry.authority, other.entry.type) == (entry.authority, entry.type):
                    return "exists"
            entry.host_payload_guid = payload_guid
            entry.last_update.CopyFrom(self.clock.now_timestamp())
            self._registrations[entry.name] = Registration(entry, host, port, time.monotonic())
            self._fresh_registrations[entry.name] = (
                self._fresh_registrations.get(entry.name, 0) + 1)
        LOG.info("registered %s (%s) authority=%s at %s:%d", entry.name, entry.type,
                 entry.authority, host, port)
        return "ok"

    def update(self, entry: directory_pb2.ServiceEntry, host: str, port: int) -> bool:
        """Replace a registered service's entry and endpoint; False if it is not registered."""
        entry = _copy(entry)
        entry.authority = normalize_authority(entry.authority)
        with self._lock:
            old = self._registrations.get(entry.name)
            if old is None:
                return False
            entry.host_payload_guid = old.entry.host_payload_guid
            entry.last_update.CopyFrom(self.clock.now_timestamp())
            self._registrations[entry.name] = Registration(entry, host, port, time.monotonic())
            self._clear_liveness_fault(entry.name)
        LOG.info("updated %s authority=%s at %s:%d", entry.name, entry.authority, host, port)
        return True

    def unregister(self, name: str) -> bool:
        """Remove a registered service and its faults; False if it is not registered."""
        with self._lock:
            if self._registrations.pop(name, None) is None:
                return False
            for key in [k for k in self._faults if k[1] == name]:
                del self._faults[key]
        LOG.info("unregistered %s", name)
        return True

    def heartbeat(self, name: str) -> None:
        """Note that service ``name`` is alive; clears its liveness fault."""
        with self._lock:
            registration = self._registrations.get(name)
            if registration is None:
                return
            now = time.monotonic()
            registration.longest_silence = max(registration.longest_silence,
                                               now - registration.last_heartbeat)
            registration.last_heartbeat = now
            registration.entry.last_update.CopyFrom(self.clock.now_timestamp())
            self._clear_liveness_fault(name)

    def check_liveness(self) -> None:
        """Raise the liveness fault for every service silent past its liveness timeout."""
        now = time.monotonic()
        with self._lock:
            for registration in self._registrations.values():
                entry = registration.entry
                timeout = entry.liveness_timeout_secs
                key = (LIVENESS_FAULT_NAME, entry.name, entry.host_payload_guid)
                if timeout <= 0 or now - registration.last_heartbeat <= timeout or (
                        key in self._faults):
                    continue
                fault = service_fault_pb2.ServiceFault(
                    error_message=f"service {entry.name} missed its liveness timeout "
                                  f"of {timeout:g} s",
                    severity=service_fault_pb2.ServiceFault.SEVERITY_WARN,
                )
                fault.fault_id.fault_name = LIVENESS_FAULT_NAME
                fault.fault_id.service_name = entry.name
                fault.fault_id.payload_guid = entry.host_payload_guid
                fault.onset_timestamp.CopyFrom(self.clock.now_timestamp())
                self._faults[key] = fault
                self.liveness_faults_raised += 1
                LOG.warning("liveness fault: %s silent for more than %g s", entry.name, timeout)

    def _clear_liveness_fault(self, name: str) -> None:
        for key in [k for k in self._faults if k[0] == LIVENESS_FAULT_NAME and k[1] == name]:
            del self._faults[key]
            LOG.info("liveness fault cleared: %s", name)

    def forget_registrations(self) -> None:
        """What a reboot does: registered services and all service faults are gone."""
        with self._lock:
            self._registrations.clear()
            self._faults.clear()

    # ----- faults ---------------------------------------------------------------------
    def trigger_fault(self, fault: service_fault_pb2.ServiceFault) -> bool:
        """Activate ``fault``; False when a fault with the same id is already active."""
        key = fault_key(fault.fault_id)
        with self._lock:
            if key in self._faults:
                return False
            fault = _copy(fault)
            if not fault.HasField("onset_timestamp"):
                fault.onset_timestamp.CopyFrom(self.clock.now_timestamp())
            self._faults[key] = fault
        LOG.info("fault triggered: %s on %s", key[0], key[1])
        return True

    def clear_faults(self, fault_id: service_fault_pb2.ServiceFaultId, all_of_service: bool,
                     all_of_payload: bool) -> bool:
        """Clear one fault, or all of its service / payload; False when none matched."""
        with self._lock:
            if all_of_service or all_of_payload:
                keys = [k for k in self._faults
                        if (all_of_service and k[1] == fault_id.service_name)
                        or (all_of_payload and k[2] == fault_id.payload_guid)]
            else:
                key = fault_key(fault_id)
                keys = [key] if key in self._faults else []
            for key in keys:
                del self._faults[key]
        for key in keys:
            LOG.info("fault cleared: %s on %s", key[0], key[1])
        return bool(keys)

    def active_faults(self) -> List[service_fault_pb2.ServiceFault]:
        """Copies of the active service faults, with their duration so far."""
        now = self.clock.now_nsec()
        with self._lock:
            faults = [_copy(f) for f in self._faults.values()]
        for fault in faults:
            onset = fault.onset_timestamp.seconds * 1_000_000_000 + fault.onset_timestamp.nanos
            fault.duration.FromNanoseconds(max(0, now - onset))
        return faults


def _copy(message):
    clone = type(message)()
    clone.CopyFrom(message)
    return clone
