"""Wiring: sources -> capture threads -> frame store -> encode-once cache -> ImageService
servicer on a gRPC server, and the robot link (auth, registration, faults, time sync).

Building a ``CameraService`` only wires the parts; ``start`` binds the port, resolves the
address the robot reaches us at, makes the SDK robot and starts serving and capturing at
once, whether or not the robot is reachable; the robot link catches up in the background.
``run`` adds the signal handling: SIGTERM/SIGINT unregister, stop capture and return within
5 seconds; SIGUSR1 logs the pipeline counters.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

import grpc
from bosdyn.client.payload import PayloadClient

from camera_service.app.clip_wiring import ClipsWiring
from camera_service.app.live_apply import apply_sources
from camera_service.app.settings_page import start_settings_page
from camera_service.capture.camera_state import CameraStatus
from camera_service.capture.cameras import Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_budget import FrameBudget
from camera_service.capture.frame_hygiene import FrameHygiene
from camera_service.capture.frame_store import FrameStore
from camera_service.config import model as config_module
from camera_service.config.model import Config
from camera_service.config.watch import FileWatcher
from camera_service.core import process_env
from camera_service.core.backoff import Backoff, GoneBackoff
from camera_service.core.errors import ConfigError
from camera_service.core.memory_limits import (
    ASSUMED_LIMIT,
    BudgetLimits,
    private_resident_bytes,
    resolve_limit,
)
from camera_service.encoding.output_cache import OutputCache
from camera_service.geometry.payload_pose import PayloadPose
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.robot.credentials import check_credentials
from camera_service.robot.faults import FaultReporter, FlapDamping
from camera_service.robot.link import RobotLink
from camera_service.robot.login import (
    PASSWORD_ENV,
    USERNAME_ENV,
    PayloadLogin,
    password_login_from_env,
    read_payload_login,
)
from camera_service.robot.registration import Registration, ServiceEndpoint
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.robot.session import RobotSession
from camera_service.robot.time_sync import RobotClock
from camera_service.serving.budget import MemoryBudget
from camera_service.serving.malformed import RateLimitedLog, add_image_service
from camera_service.serving.servicer import ImageServicer
from camera_service.sources.base import CameraSource
from camera_service.sources.url import rtsp_transport_of

_LOG = logging.getLogger(__name__)
FALLBACK_HOST_IP = "192.168.50.5"  # the CORE I/O's address toward the robot
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024  # an ImageService request is a few hundred bytes
MAX_STREAMS_PER_CONNECTION = 64  # the robot's proxy multiplexes its clients on one
SERVER_GRACE = 0.5  # seconds in-flight RPCs get to finish at shutdown
STALL_SECONDS = 2.0  # a camera silent this long (or 10 frame periods) counts as failed


class StartupError(RuntimeError):
    """The service cannot start (e.g. its port is taken); one line, exit non-zero."""


def detect_host_ip(robot_hostname: str) -> str:
    """This host's address on the route to the robot (no packet is sent), else the
    CORE I/O default."""
    try:
        robot_ip = socket.gethostbyname(robot_hostname)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((robot_ip, 9))
            return probe.getsockname()[0]
    except OSError:
        return FALLBACK_HOST_IP


def make_session(config: Config) -> RobotSession:
    """The robot session for ``config`` (payload credentials, or user login in external
    mode). Raises ``ConfigError`` for credentials or a CA file that cannot work."""
    try:
        return _make_session(config)
    except OSError as err:
        raise ConfigError("robot.ca_cert", f"cannot load the robot CA certificate "
                          f"{config.robot.ca_cert}: {err.strerror or err}") from None


def _make_session(config: Config) -> RobotSession:
    robot = config.robot
    target = RobotTarget(robot.hostname, robot.port, robot.ca_cert)
    name = config.service.name
    if robot.guid is not None:
        try:
            creds = check_credentials(robot.guid, robot.secret or "", "--guid/--secret")
        except Exception as err:
            raise ConfigError("robot.guid", str(err)) from None
        login = PayloadLogin(creds.guid, creds.secret)
        return RobotSession(target, lambda: login, client_name=name)
    if robot.mode == "external":
        user = password_login_from_env()
        if user is None:
            raise ConfigError("robot.mode", f"external mode logs in as a user: set "
                              f"{USERNAME_ENV} and {PASSWORD_ENV}")
        return RobotSession(target, lambda: user, client_name=name)
    path = robot.payload_credentials_file
    return RobotSession(target, lambda: read_payload_login(path), client_name=name)


def make_budget(config: Config) -> MemoryBudget:
    """The memory budget for ``config`` (its limit, else the cgroup's), logged once."""
    limit, origin = resolve_limit(config.service.memory_limit_mib)
    limits = BudgetLimits.from_limit(limit, config.service.max_images_per_request)
    mib = 1024 * 1024
    _LOG.info("memory budget: %d MiB from %s; images in flight up to %d MiB, %d MiB and %d "
              "images per response, frames up to %d MiB decoded", limit // mib, origin,
              limits.in_flight_bytes // mib, limits.request_bytes // mib, limits.max_images,
              limits.frame_bytes // mib)
    # the measured gate guards a limit that exists (a cgroup's, or one configured to match
    # it); with no limit anywhere the process's size is no reason to refuse an image
    measured = None if origin == ASSUMED_LIMIT else private_resident_bytes
    return MemoryBudget(limits, measure=measured)


@dataclass(frozen=True)
class RetryTiming:
    """How fast failing parts are retried (tests make these short; a robot that comes up
    must see the service within about a second, a missing camera is polled gently)."""

    camera_initial: float = 0.1  # a camera is retried quickly at first, then gently;
    camera_maximum: float = 0.9  # one that is back is reopened within a second
    robot_initial: float = 0.25
    robot_maximum: float = 1.0
    fault_damping: FlapDamping = field(default_factory=FlapDamping)  # flapping: fault held

    def camera(self) -> Backoff:
        return GoneBackoff(initial=self.camera_initial, maximum=self.camera_maximum)

    def robot(self) -> Backoff:
        return Backoff(initial=self.robot_initial, maximum=self.robot_maximum)


class CameraService:
    """The whole service for one ``Config``; ``start`` then ``stop``.

    Building it only wires objects together: no socket is bound, no name resolved, no robot
    object made, no camera opened (sources are created, not opened). ``start`` does all of
    that; ``serve`` alone starts capturing and serving without the robot link (tests).
    ``budget`` replaces the memory budget made from the config.

    The running cameras belong to ``cameras`` (``capture.cameras.Cameras``); a live config
    change goes through it (``apply``/``reload``). Everything else is read-only from outside
    (tests, benchmarks, the settings page): ``cache.stats()`` (encode counters), ``faults``
    (``desired()`` = cameras currently faulted), ``link.connected``, ``registration``,
    ``captures`` (``state``, ``frames_captured`` and ``hygiene.counts()`` per camera),
    ``port`` (the bound port, after ``start``/``serve``).
    """

    def __init__(self, config: Config, sources: Sequence[CameraSource] | None = None,
                 session: RobotSession | None = None,
                 budget: MemoryBudget | None = None, retry: RetryTiming | None = None,
                 loader: Callable[[], Config] | None = None) -> None:
        self._config = config
        # Reads the config again for ``reload`` (the CLI passes one that re-applies its flags).
        if loader is None and config.path is not None:
            loader = lambda: config_module.load(config.path)  # noqa: E731
        self._loader = loader
        self._apply_lock = threading.Lock()
        self._last_apply: Dict[str, Any] | None = None
        self._watcher: FileWatcher | None = None
        self._retry = retry or RetryTiming()
        self._store = FrameStore()
        self._cache = OutputCache()
        self._clock = RobotClock()
        self._budget = budget or make_budget(config)
        self._budget.max_waiting = max(1, config.service.workers // 2)  # workers stay free
        self._payload_pose = PayloadPose()
        self._cameras = Cameras(self._store, self._new_capture, self._payload_pose,
                                list(sources) if sources is not None
                                else config.build_sources())
        self._faults = FaultReporter(config.service.name, self._cameras,
                                     damping=self._retry.fault_damping)
        self._servicer = ImageServicer(self._cameras, self._store, self._cache,
                                       to_robot_time=self._clock.robot_timestamp,
                                       budget=self._budget)
        self._malformed = RateLimitedLog()  # requests that do not parse, counted per kind
        # Data Acquisition clips of the clip-enabled sources (a plugin beside the servicer)
        self._clips = ClipsWiring(self, self._budget.limits)
        self._server: grpc.Server | None = None
        self._port: int | None = None
        self._registration: Registration | None = None
        self._link: RobotLink | None = None
        self._session = session
        self._stopping = threading.Event()
        self._watchdog = threading.Thread(target=self._watch_stalls, name="stall-watchdog",
                                          daemon=True)

    # -- read-only state -----------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The config running now (its sources change with every live apply)."""
        return self._config

    @property
    def cameras(self) -> Cameras:
        """The owner of the running cameras."""
        return self._cameras

    @property
    def captures(self) -> Tuple[CaptureThread, ...]:
        """The running cameras' capture threads, in config order."""
        return self._cameras.capture_threads()

    @property
    def sources(self) -> Tuple[CameraSource, ...]:
        """The running cameras' sources, in config order."""
        return self._cameras.sources()

    @property
    def store(self) -> FrameStore:
        return self._store

    @property
    def cache(self) -> OutputCache:
        return self._cache

    @property
    def clock(self) -> RobotClock:
        return self._clock

    @property
    def faults(self) -> FaultReporter:
        return self._faults

    @property
    def servicer(self) -> ImageServicer:
        return self._servicer

    @property
    def clips(self) -> ClipsWiring:
        return self._clips

    @property
    def geometries(self) -> Mapping[str, SourceGeometry]:
        """Camera model and mount of the running cameras that have them (live view)."""
        return self._cameras.geometries

    @property
    def malformed(self) -> RateLimitedLog:
        return self._malformed

    @property
    def payload_pose(self) -> PayloadPose:
        return self._payload_pose

    @property
    def port(self) -> int | None:
        """The bound port, after ``start``/``serve``."""
        return self._port

    @property
    def registration(self) -> Registration | None:
        return self._registration

    @property
    def link(self) -> RobotLink | None:
        return self._link

    @property
    def last_apply(self) -> Dict[str, Any] | None:
        """What the last live apply changed, and when (``time.time()`` in ``at``)."""
        return self._last_apply

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        """Serve, then connect to the robot in the background. Raises ``ConfigError`` (robot
        credentials or CA unusable) or ``StartupError`` (port taken) before anything runs."""
        session = self._session or make_session(self._config)
        self.serve()
        robot = self._config.robot
        host_ip = robot.host_ip if robot.host_ip != "auto" else detect_host_ip(robot.hostname)
        liveness = robot.keepalive_seconds * 3
        assert self._port is not None  # bound by serve()
        self._registration = Registration(ServiceEndpoint(
            self._config.service.name, self._config.service.authority, host_ip, self._port,
            liveness_timeout=liveness), self._clips.endpoints(host_ip, self._port, liveness))
        self._link = RobotLink(session, self._registration, self._faults, self._clock,
                               keepalive_seconds=robot.keepalive_seconds,
                               backoff=self._retry.robot(),
                               round_tasks=[self._read_payload_pose])
        self._link.start()

    def serve(self) -> None:
        """Bind the port (``StartupError`` when taken), start capturing and serving."""
        # FFmpeg's options live in the process environment: set before any capture runs.
        process_env.set_rtsp_transport(rtsp_transport_of(self._cameras.sources()))
        service = self._config.service
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=service.workers,
                                       thread_name_prefix="grpc"),
            options=[("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                     ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                     # one connection cannot take every worker (request_guard: the rest)
                     ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
                     ("grpc.so_reuseport", 0)])
        add_image_service(self._servicer, self._server, self._malformed)
        self._clips.add_to(self._server)
        self._port = self._bind(self._server, service.bind, service.port)
        self._cameras.start()
        self._watchdog.start()
        self._server.start()
        names = [camera.name for camera in self._cameras.running()]
        _LOG.info("serving ImageService on port %d with %d source(s): %s", self._port,
                  len(names), ", ".join(names) or "none")

    @staticmethod
    def _bind(server: grpc.Server, address: str, port: int) -> int:
        try:
            bound = server.add_insecure_port(f"{address}:{port}")
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise StartupError(f"cannot listen on {address}:{port}: the port is in use or the "
                               "address is not local; choose another with --port")
        return bound

    def apply(self, config: Config) -> Dict[str, Any]:
        """Capture and serve ``config``'s sources from now on (``live_apply``); returns what
        changed."""
        with self._apply_lock:
            result, self._config = apply_sources(self._cameras, self._config, config,
                                                 republish=self._republish)
            self._last_apply = {**result, "at": time.time()}
            return result

    def _republish(self) -> None:
        """The source list changed (live apply): the clips follow the cameras (their
        plugin's entry comes and goes with the clip-enabled sources), then the robot link
        publishes both lists again."""
        self._clips.apply(self._cameras.capture_threads())
        registration = self._registration
        if registration is not None:
            main = registration.endpoint
            registration.set_extra(self._clips.endpoints(main.host, main.port,
                                                         main.liveness_timeout))
        if self._link is not None:
            self._link.republish()

    def reload(self) -> Dict[str, Any]:
        """Read the config file again and apply it live (``apply``); returns what changed.
        Raises ``ConfigError`` (nothing applied) when the file is invalid."""
        if self._loader is None:
            raise ConfigError("--config", "the service runs without a config file")
        result = self.apply(self._loader())
        if self._watcher is not None:
            self._watcher.mark_seen()
        return result

    def reload_or_keep(self) -> None:
        """``reload`` for hand edits and SIGHUP: an invalid file is logged in one line and the
        running config kept."""
        try:
            self.reload()
        except ConfigError as err:
            _LOG.error("config not applied, keeping the running one: %s", err)

    def watch_config_file(self, interval: float = 1.0) -> None:
        """Apply hand edits of the config file (``config_watch``) from now on."""
        if self._config.path is not None and self._loader is not None:
            self._watcher = FileWatcher(self._config.path, self.reload_or_keep, interval)
            self._watcher.start()

    def _new_capture(self, source: CameraSource) -> CaptureThread:
        """A capture thread for ``source`` (the cameras owner makes every one with this)."""
        frame_budget = FrameBudget(self._budget.limits, source.name)
        source.limit_declared_size(frame_budget.check_size)  # before a decoder sees a frame
        return CaptureThread(source, self._store, self._camera_changed,
                             backoff=self._retry.camera(),
                             hygiene=FrameHygiene(source.name, checks=[frame_budget.check],
                                                  open_checks=[frame_budget.check_open]))

    def stop(self, timeout: float = 4.5) -> None:
        """Unregister, stop serving and capturing, all within ``timeout`` seconds.

        The robot link (which unregisters on its own thread) and the cameras stop side by
        side; the server stops last, so the robot stops routing clients here first."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.stop()
        cameras = threading.Thread(target=self._cameras.stop,
                                   args=(max(0.1, timeout - 0.2),), name="stop-cameras",
                                   daemon=True)
        cameras.start()
        if self._link is not None:
            self._link.stop(timeout=max(0.1, deadline - time.monotonic() - SERVER_GRACE - 0.1))
        if self._server is not None:
            self._server.stop(grace=min(SERVER_GRACE, max(0.0, deadline - time.monotonic())))
        cameras.join(max(0.0, deadline - time.monotonic()))
        self._clips.stop()
        _LOG.info("stopped")

    def status(self, camera: str) -> CameraStatus:
        """The current ``CameraStatus`` of ``camera`` (``KeyError`` for an unknown name)."""
        running = self._cameras.get(camera)
        if running is None:
            raise KeyError(camera)
        return running.capture.state.status()

    def counters(self) -> Dict[str, object]:
        """Pipeline counters for logs and benchmarks."""
        captures = self._cameras.capture_threads()
        stats: Dict[str, object] = dict(self._cache.stats())
        stats["frames"] = {c.name: c.frames_captured for c in captures}
        stats["budget"] = {"in_flight_peak": self._budget.peak,
                           "refused": self._budget.refused}
        stats["malformed"] = self._malformed.counts()
        stats["request_guard"] = {"cancelled": self._servicer.guard.cancelled,
                                  **self._servicer.guard.log.counts()}
        stats["frame_hygiene"] = {c.name: c.hygiene.counts() for c in captures}
        stats["faulted"] = sorted(self._faults.desired())
        stats["robot_connected"] = bool(self._link and self._link.connected)
        return stats

    def _watch_stalls(self) -> None:
        """Cameras whose read hangs without an error are failed by this watchdog; GetImage
        calls past the request guard's time are cancelled."""
        while not self._stopping.wait(0.5):
            for capture in self._cameras.capture_threads():
                capture.check_stall(STALL_SECONDS)
            self._servicer.guard.cancel_overdue()  # GetImage calls past their time

    def _read_payload_pose(self, session: RobotSession) -> None:
        """Robot-link round task: follow the payload's pose while a source is mounted
        relative to the payload."""
        if not self._cameras.needs_payload_pose():
            return
        self._payload_pose.refresh(session.client(PayloadClient), session.payload_guid or "",
                                   timeout=3.0)

    def _camera_changed(self, _status: CameraStatus) -> None:
        if self._link is not None:
            self._link.wake()


def run(config: Config, loader: Callable[[], Config] | None = None) -> int:
    """Run the service for ``config`` until SIGTERM/SIGINT; returns the exit status.
    ``ConfigError`` goes to the caller (exit status 2). ``loader`` reads the config file
    again with the command line's flags (default ``config.load``)."""
    return run_service(CameraService(config, loader=loader))


def run_service(service: CameraService) -> int:
    """Start ``service`` and run it until SIGTERM/SIGINT; returns the exit status. With a
    config file the settings page runs too, and the file is applied again on change or
    SIGHUP."""
    stop, hup, wake = threading.Event(), threading.Event(), threading.Event()
    try:
        service.start()
    except StartupError as err:
        _LOG.error("%s", err)
        service.stop(timeout=1.0)
        return 1
    def on_stop(*_: Any) -> None:
        stop.set()
        wake.set()

    def on_hup(*_: Any) -> None:
        hup.set()
        wake.set()

    previous: List = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous.append((signum, signal.signal(signum, on_stop)))
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda *_: _LOG.info(
            "counters: %s", json.dumps(service.counters(), sort_keys=True)))
    if hasattr(signal, "SIGHUP"):
        previous.append((signal.SIGHUP, signal.signal(signal.SIGHUP, on_hup)))
    page = start_settings_page(service)
    service.watch_config_file()
    try:
        while not stop.is_set():
            wake.wait(1.0)
            wake.clear()
            if hup.is_set() and not stop.is_set():
                hup.clear()
                _LOG.info("SIGHUP: applying the config file again")
                service.reload_or_keep()
    finally:
        _LOG.info("shutting down")
        if page is not None:
            page.stop()
        service.stop()
        for signum, handler in previous:
            signal.signal(signum, handler)
    return 0
