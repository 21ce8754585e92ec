"""The viewer's connection to a robot: login, image clients, fault messages, reconnect.

``ViewerConnection`` is what the HTTP layer calls. It talks to the robot only through the real
``bosdyn.client`` SDK (``Robot``, ``DirectoryClient``, ``ImageClient``, time sync, robot
state), so it works the same against a real robot and the simulator.

Failures become ``WebError`` subclasses whose ``message`` is one line for the page:
- ``RobotUnreachable``: the robot does not answer ("robot unreachable at HOST: reason").
  The session is dropped; the next call after ``retry_interval`` seconds logs in again, so
  the viewer recovers by itself when the robot comes back (also after a reboot that
  invalidated the token).
- ``LoginRefused``: the robot answered but refused the credentials.
- ``ServiceUnreachable``: the robot answers but the image service behind it does not.
- ``UnknownService``: no image service of that name is in the robot's directory.
- ``SourceFault``: the service answered with a non-OK image status; the message carries the
  service's own explanation (see ``_source_fault``).
- ``UnknownClip`` / ``ClipTooLarge`` / ``ClipUnreadable`` (``viewer.clips``): the clips of the
  robot's Data Acquisition store.
No message contains a password, secret or token.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Dict, List, Optional, TypeVar

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import image_pb2
from bosdyn.client.directory import DirectoryClient
from bosdyn.client.exceptions import (
    Error as SdkError,
)
from bosdyn.client.exceptions import (
    ResponseError,
    RpcError,
    TimedOutError,
    UnauthenticatedError,
)
from bosdyn.client.image import ImageClient, build_image_request
from bosdyn.client.robot import Robot
from bosdyn.client.robot_state import RobotStateClient
from bosdyn.client.time_sync import TimeSyncError
from camera_service.robot.login import Login, describe_login_failure
from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot
from camera_service.serving import view_params
from camera_service.serving.request_spec import enum_name
from camera_service.web.errors import (
    LoginRefused,
    RobotUnreachable,
    ServiceUnreachable,
    SourceFault,
    UnknownService,
    WebError,
)
from camera_service.web.frames import JpegFrame

from viewer.clips import ClipCatalog, ClipSummary

LOGGER = logging.getLogger(__name__)

IMAGE_SERVICE_TYPE = ImageClient.service_type
T = TypeVar("T")


@dataclass(frozen=True)
class SourceDescription:
    """One image source as listed by its service."""

    name: str
    cols: int
    rows: int
    formats: List[str]
    pixel_formats: List[str] = field(default_factory=list)  # e.g. PIXEL_FORMAT_GREYSCALE_U16


@dataclass(frozen=True)
class ServiceSources:
    """An image service from the directory and its sources; ``error`` set when it did not
    answer ``ListImageSources``."""

    name: str
    authority: str
    sources: List[SourceDescription]
    error: str = ""


def rpc_reason(err: SdkError) -> str:
    """A short one-line reason for an RPC failure (gRPC details rather than the repr)."""
    if isinstance(err, TimedOutError):
        return "no answer in time"
    details = getattr(getattr(err, "error", None), "details", None)
    text = details() if callable(details) else getattr(err, "error_message", "") or str(err)
    text = " ".join(str(text).split()) or type(err).__name__
    if text.startswith("failed to connect to all addresses"):
        text = f"cannot connect ({text.rsplit(': ', 1)[-1]})"
    return text if len(text) <= 200 else text[:197] + "..."


def _status_text(status_name: str) -> str:
    """``STATUS_IMAGE_DATA_ERROR`` -> ``image data error``."""
    text = status_name[len("STATUS_") :] if status_name.startswith("STATUS_") else status_name
    return text.replace("_", " ").lower()


class _Session:
    """One logged-in ``Robot`` with time sync running."""

    def __init__(self, robot: Robot) -> None:
        self.robot = robot
        self._authorities: Dict[str, str] = {}

    def image_client(self, service: str) -> ImageClient:
        """The ``ImageClient`` for directory entry ``service``. Raises ``UnknownService``."""
        robot = self.robot
        if robot.service_type_by_name.get(service) != IMAGE_SERVICE_TYPE:
            robot.sync_with_directory()
        if robot.service_type_by_name.get(service) != IMAGE_SERVICE_TYPE:
            raise UnknownService(f"no image service named {service!r} in the robot's directory")
        authority = robot.authorities_by_name.get(service, "")
        if self._authorities.get(service, authority) != authority:
            # Re-registered under another authority: the cached client's channel is stale.
            robot.service_clients_by_name.pop(service, None)
        self._authorities[service] = authority
        return robot.ensure_client(service)

    def robot_time_to_local(self, timestamp) -> float | None:
        try:
            converter = self.robot.time_sync.get_robot_time_converter(timesync_timeout_sec=0)
        except TimeSyncError:
            return None
        return converter.local_seconds_from_robot_timestamp(timestamp)

    def close(self) -> None:
        """Stop time sync and close the robot's channels."""
        self.robot.stop_time_sync()
        self.robot.shutdown()


class ViewerConnection:
    """A self-healing, thread-safe connection to one robot for the viewer.

    Every public call may raise ``WebError``; none raises SDK exceptions. Calls from many
    threads share one session; while the robot is unreachable they fail fast with the last
    error and one reconnect is attempted at most every ``retry_interval`` seconds. After a
    refused login the next attempt waits ``login_retry_interval`` seconds (a payload may get
    authorized meanwhile), so that a wrong password does not get the user locked out.
    """

    def __init__(
        self,
        target: RobotTarget,
        login: Login,
        rpc_timeout: float = 5.0,
        retry_interval: float = 1.0,
        login_retry_interval: float = 15.0,
        client_name: str = "camera-viewer",
    ) -> None:
        self.target = target
        self.login = login
        self.rpc_timeout = rpc_timeout
        self.retry_interval = retry_interval
        self.login_retry_interval = login_retry_interval
        self._client_name = client_name
        self._lock = threading.Lock()
        self._session: _Session | None = None
        self._last_error: WebError | None = None
        self._next_attempt = 0.0
        self._clips = ClipCatalog(rpc_timeout)

    # ----- public API -------------------------------------------------------------------

    def status(self) -> dict:
        """Connection state for the page; never blocks on a login in progress."""
        error = self._last_error
        return {
            "robot": str(self.target),
            "login": self.login.describe(),
            "connected": self._session is not None,
            "error": error.kind if error else "",
            "message": error.message if error else "",
        }

    def connect(self) -> bool:
        """Log in now if not logged in. True on success; on failure the reason is in
        ``status()`` (and logged once)."""
        try:
            self._ensure_session()
        except WebError:
            return False
        return True

    def list_sources(self) -> List[ServiceSources]:
        """Every image service in the robot's directory with its sources, sorted by name."""
        return self._run(self._list_sources)

    def get_jpeg(self, service: str, source: str, quality: int, resize: float) -> JpegFrame:
        """``GetImage`` of ``source`` on ``service`` as JPEG at ``quality`` percent, scaled by
        ``resize`` (1 = full size)."""
        request = build_image_request(
            source,
            quality_percent=quality,
            image_format=image_pb2.Image.FORMAT_JPEG,
            resize_ratio=resize,
        )
        return self._run(lambda session: self._get_jpeg(session, service, request))

    def list_clips(self, page_size: int, before: Optional[int] = None) -> dict:
        """The clips in the robot's Data Acquisition store, newest first, at most
        ``page_size`` (``ClipCatalog.list_clips``)."""
        return self._run(lambda session: self._clips.list_clips(session.robot, page_size,
                                                                before),
                         "Data Acquisition store")

    def fetch_clip(self, clip_id: int, out: BinaryIO, max_bytes: int) -> daq.DataIdentifier:
        """Write clip ``clip_id`` (a capture id from ``list_clips``), as stored, to ``out``;
        returns its identifier (``ClipCatalog.fetch``)."""
        return self._run(lambda session: self._clips.fetch(session.robot, clip_id, out,
                                                           max_bytes),
                         "Data Acquisition store")

    def remember_clip_summary(self, clip_id: int, summary: ClipSummary) -> None:
        """Frames and duration of a fetched clip, shown by ``list_clips`` from now on."""
        self._clips.remember_summary(clip_id, summary)

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    # ----- session management -----------------------------------------------------------

    def _run(self, action: Callable[[_Session], T], what: str = "image service") -> T:
        """Run ``action`` on a logged-in session, translating SDK failures (see module doc;
        ``what`` names the service behind the robot it talks to). A rejected token (robot
        rebooted) triggers one fresh login and one retry."""
        for attempt in (1, 2):
            session = self._ensure_session()
            try:
                return action(session)
            except UnauthenticatedError:
                self._drop(session, None)
                if attempt == 2:
                    raise LoginRefused(
                        f"robot at {self.target} rejects the viewer's token after a new login"
                    ) from None
            except RpcError as err:
                raise self._classify_rpc_failure(session, err, what) from None
            except SdkError as err:
                raise WebError(f"robot at {self.target}: {err}") from None
        raise AssertionError("unreachable")

    def _ensure_session(self) -> _Session:
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is not None:
                return self._session
            if self._last_error is not None and time.monotonic() < self._next_attempt:
                raise self._last_error
            try:
                self._session = self._connect()
            except WebError as err:
                self._set_failed(err)
                raise
            self._last_error = None
            LOGGER.info("viewer: logged in to robot at %s as %s", self.target,
                        self.login.describe())
            return self._session

    def _connect(self) -> _Session:
        # fast-reconnecting channels, SDK logger held at INFO (no password in proto dumps)
        robot = make_sdk_robot(self.target, self._client_name)
        try:
            self.login.apply(robot, timeout=self.rpc_timeout)
        except RpcError as err:
            robot.shutdown()
            raise self._unreachable(err) from None
        except ResponseError as err:
            robot.shutdown()
            raise LoginRefused(
                f"login to robot at {self.target} as {self.login.describe()} refused: "
                f"{describe_login_failure(err)}"
            ) from None
        robot.start_time_sync()
        return _Session(robot)

    def _set_failed(self, err: WebError) -> None:
        """Remember ``err`` as the state to report; log only changes of state."""
        previous = self._last_error
        if previous is None or previous.message != err.message:
            LOGGER.warning("viewer: %s", err.message)
        self._last_error = err
        wait = self.login_retry_interval if isinstance(err, LoginRefused) else self.retry_interval
        self._next_attempt = time.monotonic() + wait

    def _drop(self, session: _Session, err: WebError | None) -> None:
        with self._lock:
            if self._session is session:
                self._session = None
                session.close()
                if err is not None:
                    self._set_failed(err)

    def _classify_rpc_failure(self, session: _Session, err: RpcError, what: str) -> WebError:
        """Tell "the robot is gone" from "the service behind the robot does not answer"
        by asking the robot's own directory."""
        directory = session.robot.ensure_client(DirectoryClient.default_service_name)
        try:
            directory.list(timeout=min(2.0, self.rpc_timeout))
        except UnauthenticatedError:
            pass  # the robot answered
        except SdkError as probe_err:
            failure = self._unreachable(probe_err)
            self._drop(session, failure)
            return failure
        return ServiceUnreachable(
            f"{what} not answering through the robot: {rpc_reason(err)}"
        )

    def _unreachable(self, err: SdkError) -> RobotUnreachable:
        return RobotUnreachable(f"robot unreachable at {self.target}: {rpc_reason(err)}")

    # ----- actions ----------------------------------------------------------------------

    def _list_sources(self, session: _Session) -> List[ServiceSources]:
        robot = session.robot
        directory = robot.ensure_client(DirectoryClient.default_service_name)
        entries = directory.list(timeout=self.rpc_timeout)
        robot.sync_with_services_list(entries)
        image_entries = sorted(
            (entry for entry in entries if entry.type == IMAGE_SERVICE_TYPE),
            key=lambda entry: entry.name,
        )
        pending = [
            (entry, session.image_client(entry.name).list_image_sources_async(
                timeout=self.rpc_timeout))
            for entry in image_entries
        ]
        return [self._describe_service(entry, future) for entry, future in pending]

    @staticmethod
    def _describe_service(entry, future) -> ServiceSources:
        try:
            sources = future.result()
        except SdkError as err:
            reason = f"not answering: {rpc_reason(err)}"
            return ServiceSources(entry.name, entry.authority, [], reason)
        described = [
            SourceDescription(
                name=source.name,
                cols=source.cols,
                rows=source.rows,
                formats=[image_pb2.Image.Format.Name(f) for f in source.image_formats],
                pixel_formats=[enum_name(image_pb2.Image.PixelFormat, f)
                               for f in source.pixel_formats],
            )
            for source in sources
        ]
        return ServiceSources(entry.name, entry.authority, described)

    def _get_jpeg(self, session: _Session, service: str, request) -> JpegFrame:
        client = session.image_client(service)
        started = time.monotonic()
        try:
            response = client.get_image([request], timeout=self.rpc_timeout)[0]
        except ResponseError as err:
            raise self._source_fault(session, service, request.image_source_name, err) from None
        rpc_seconds = time.monotonic() - started
        image = response.shot.image
        if image.format != image_pb2.Image.FORMAT_JPEG:
            raise SourceFault(
                f"{request.image_source_name}: the service sent "
                f"{image_pb2.Image.Format.Name(image.format)} instead of the JPEG asked for",
                status="STATUS_OK",
            )
        acquisition = None
        if response.shot.HasField("acquisition_time"):
            acquisition = session.robot_time_to_local(response.shot.acquisition_time)
        value_range = view_params.read_range(response.shot.capture_params.custom_params)
        return JpegFrame(image.data, image.cols, image.rows, rpc_seconds, acquisition,
                         value_range, response.source.depth_scale)

    def _source_fault(
        self, session: _Session, service: str, source: str, err: ResponseError
    ) -> SourceFault:
        """A ``SourceFault`` explaining ``err``: the image status in words, then the
        service's own explanation - the messages it put in the image response (ImageResponse
        has no message field; services use ``custom_param_error.error_messages``), else its
        active robot fault for this source, else the response header's message."""
        status, messages = "", []
        for image_response in getattr(err.response, "image_responses", []):
            if image_response.status != image_pb2.ImageResponse.STATUS_OK:
                status = image_pb2.ImageResponse.Status.Name(image_response.status)
                messages = list(image_response.custom_param_error.error_messages)
                break
        what = _status_text(status) if status else type(err).__name__
        header_message = err.response.header.error.message if err.response is not None else ""
        detail = ("; ".join(messages) or self._active_fault_text(session, service, source)
                  or header_message)
        message = f"{source}: {what}" + (f" - {detail}" if detail else "")
        return SourceFault(message, status=status)

    def _active_fault_text(self, session: _Session, service: str, source: str) -> str:
        """Error messages of the robot's active service faults raised by ``service`` that
        name ``source``; empty when none or when robot state cannot be read."""
        try:
            client = session.robot.ensure_client(RobotStateClient.default_service_name)
            state = client.get_robot_state(timeout=min(2.0, self.rpc_timeout))
        except SdkError:
            return ""
        messages = []
        for fault in state.service_fault_state.faults:
            text = " ".join([fault.fault_id.fault_name, fault.error_message, *fault.attributes])
            if fault.fault_id.service_name == service and source in text:
                messages.append(fault.error_message or fault.fault_id.fault_name)
        return "; ".join(messages)
