"""``RobotSimulator``: the simulated robot running inside the calling process."""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import List, Union

from bosdyn.api import (
    data_acquisition_service_pb2_grpc,
    data_acquisition_store_service_pb2_grpc,
    directory_pb2,
    service_fault_pb2,
)

from robot_sim import certs
from robot_sim.capture_store import CaptureStore
from robot_sim.clock import DEFAULT_SKEW_SECONDS, RobotClock
from robot_sim.dispatch import Dispatcher
from robot_sim.handle import PAYLOAD_CREDENTIALS_FILE, SimulatorHandle, write_facts
from robot_sim.rest_server import RestServer
from robot_sim.routing import Router
from robot_sim.server import PortInUseError, SimServer
from robot_sim.services import collect_handlers
from robot_sim.services.data_acquisition import DEFAULT_TIMEOUT_SECONDS, DataAcquisitionServicer
from robot_sim.services.data_acquisition_store import DataAcquisitionStoreServicer
from robot_sim.state import RobotState

LOG = logging.getLogger("robot_sim")
LIVENESS_CHECK_SECONDS = 0.2
DEFAULT_USERNAME = "user"


class RobotSimulator(SimulatorHandle):
    """A stand-in Spot robot serving the bosdyn gRPC API over TLS on one port.

    Use as a context manager (or call ``start``/``stop``). ``state_dir`` receives the CA,
    the server certificate, the payload credentials file and ``robot.json``; None means a
    temporary folder removed on ``stop``. ``address`` is what clients should connect to
    (defaults to ``bind``, or 127.0.0.1 when binding all interfaces). ``daq_timeout_seconds``
    is Data Acquisition's default time-out (30 s on the robot). The REST download endpoint
    (``robot_sim.rest_server``) is served over HTTPS on ``rest_port``: SDK helpers that take
    a hostname for it get ``rest_hostname``.
    """

    def __init__(
        self,
        state_dir: Union[str, Path, None] = None,
        port: int = 0,
        bind: str = "127.0.0.1",
        address: str | None = None,
        username: str = DEFAULT_USERNAME,
        password: str | None = None,
        clock_skew_seconds: float = DEFAULT_SKEW_SECONDS,
        daq_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="robot_sim-"))
        self._bind = bind
        self.address = address or (bind if bind not in ("0.0.0.0", "::", "") else "127.0.0.1")
        self.port = port
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.clock = RobotClock(clock_skew_seconds)
        self.state = RobotState(self.clock, self.username, self.password)
        self._router = Router()
        self.captures = CaptureStore()
        self._handlers = collect_handlers(self.state, [
            (DataAcquisitionServicer(self.state, self.captures, self._router,
                                     daq_timeout_seconds),
             data_acquisition_service_pb2_grpc.add_DataAcquisitionServiceServicer_to_server),
            (DataAcquisitionStoreServicer(self.state, self.captures),
             data_acquisition_store_service_pb2_grpc
             .add_DataAcquisitionStoreServiceServicer_to_server),
        ])
        self._dispatcher = Dispatcher(self.state, self._handlers, self._router)
        self._server: SimServer | None = None
        self._rest: RestServer | None = None
        self._events_lock = threading.Lock()
        self._event_generation = 0
        self._stopped = threading.Event()
        self._liveness_thread: threading.Thread | None = None

    # ----- lifetime -------------------------------------------------------------------
    def start(self) -> RobotSimulator:
        """Generate certificates and credentials, serve, write ``robot.json``."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        extra_hosts = {self._bind, self.address}
        self.ca_cert, cert_pem, key_pem = certs.write_certificates(self.state_dir, extra_hosts)
        self.payload_guid = str(uuid.uuid4())
        payload_secret = secrets.token_hex(16)
        self.payload_credentials_file = self.state_dir / PAYLOAD_CREDENTIALS_FILE
        self.payload_credentials_file.write_text(f"{self.payload_guid}\n{payload_secret}\n")
        self.payload_credentials_file.chmod(0o600)
        self.state.add_payload(self.payload_guid, payload_secret, authorized=True)
        self._server = SimServer(self._dispatcher, self._bind, self.port, cert_pem, key_pem)
        self._server.start()
        self.port = self._server.port
        self._rest = RestServer(self.captures, lambda t: self.state.tokens.verify(t) is not None,
                                self._bind, self.state_dir / certs.SERVER_CERT_FILE,
                                self.state_dir / certs.SERVER_KEY_FILE)
        self._rest.start()
        self.rest_port = self._rest.port
        write_facts(self.state_dir, self.facts())
        self._stopped.clear()
        self._liveness_thread = threading.Thread(target=self._watch_liveness,
                                                 name="robot_sim-liveness", daemon=True)
        self._liveness_thread.start()
        LOG.info("robot simulator ready on %s:%d (address %s)", self._bind, self.port,
                 self.address)
        return self

    def stop(self) -> None:
        """Stop serving for good (pending life events are cancelled)."""
        with self._events_lock:
            self._event_generation += 1
        self._stopped.set()
        if self._server is not None:
            self._server.stop()
        if self._rest is not None:
            self._rest.stop()
            self._rest = None
        self._router.close()
        if self._liveness_thread is not None:
            self._liveness_thread.join(2)
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def _watch_liveness(self) -> None:
        while not self._stopped.wait(LIVENESS_CHECK_SECONDS):
            self.state.check_liveness()

    # ----- life events ----------------------------------------------------------------
    @property
    def serving(self) -> bool:
        """True while the robot accepts connections."""
        return self._server is not None and self._server.serving

    def _down_for(self, seconds: float) -> None:
        """Drop connections now and serve again after ``seconds`` (in the background)."""
        assert self._server is not None, "start() the simulator first"
        with self._events_lock:
            self._event_generation += 1
            generation = self._event_generation
        self._server.stop()

        def come_back() -> None:
            delay = seconds
            while not self._stopped.wait(delay):
                with self._events_lock:
                    if generation != self._event_generation:
                        return
                    try:
                        self._server.start()
                    except PortInUseError as exc:
                        LOG.error("robot cannot come back up: %s; retrying", exc)
                        delay = 0.5
                        continue
                LOG.info("robot back up on port %d", self.port)
                return

        threading.Thread(target=come_back, name="robot_sim-up", daemon=True).start()

    def reboot(self, down_seconds: float = 1.0, invalidate_tokens: bool = False) -> None:
        """Simulate a robot reboot; returns once the robot is down.

        Connections drop, registered services and faults are forgotten, and the robot serves
        again after ``down_seconds``. Tokens stay valid unless ``invalidate_tokens`` (as if
        the robot's signing key changed).
        """
        LOG.info("reboot: down for %g s%s", down_seconds,
                 ", tokens invalidated" if invalidate_tokens else "")
        self._down_for(down_seconds)
        self.state.forget_registrations()
        if invalidate_tokens:
            self.state.tokens.rotate_key()

    def refuse_connections(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` (robot not up yet); state is kept."""
        LOG.info("refusing connections for %g s", seconds)
        self._down_for(seconds)

    def set_latency(self, seconds: float, service: str | None = None) -> None:
        """Delay every call by ``seconds`` from now on (0 to stop); with ``service`` (a gRPC
        service name such as ``bosdyn.api.TimeSyncService``) only that service's calls,
        on top of the latency of every call."""
        seconds = max(0.0, float(seconds))
        if service is None:
            LOG.info("latency set to %g s", seconds)
            self._dispatcher.latency_seconds = seconds
        else:
            LOG.info("latency of %s set to %g s", service, seconds)
            self._dispatcher.service_latency[service] = seconds

    @property
    def calls_delayed(self) -> int:
        """Calls held by simulated latency right now (a test waits for a stalled call)."""
        return self._dispatcher.calls_delayed

    # ----- queries and accounts -------------------------------------------------------
    def directory_entries(self) -> List[directory_pb2.ServiceEntry]:
        """All directory entries (robot services first, then registered ones)."""
        return self.state.directory_entries()

    def active_faults(self) -> List[service_fault_pb2.ServiceFault]:
        """The active service faults."""
        return self.state.active_faults()

    def add_payload(self, guid: str, secret: str, authorized: bool = True) -> None:
        """Make a payload known to the robot."""
        self.state.add_payload(guid, secret, authorized)

    def set_payload_authorized(self, guid: str, authorized: bool) -> None:
        """Authorize or revoke a payload (KeyError if unknown)."""
        self.state.set_payload_authorized(guid, authorized)

    def set_payload_pose(self, guid: str, xyz, quaternion=(1.0, 0.0, 0.0, 0.0)) -> None:
        """Place a payload on the body: ``xyz`` metres, ``quaternion`` (w, x, y, z)."""
        self.state.set_payload_pose(guid, list(xyz), list(quaternion))
