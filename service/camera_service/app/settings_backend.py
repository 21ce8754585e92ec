"""The running service as the settings page sees it (``http_api.SettingsBackend``).

``ServiceView(service)`` reads a running service's state (``RunningService``: what
``app.service.CameraService`` offers read-only) for the status and camera lists,
serves preview frames by asking the service's own ``ImageServicer`` in-process (the same
answer a robot client gets, without a network hop), and applies a saved config by calling
the service's ``reload``.

The cameras list asks each capture node for its formats, sizes, rates and controls
(``camera_query``) when the page asks for the list - never on an image request - and keeps
each node's answer for ``QUERY_SECONDS`` so several pages polling do not re-query devices.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Protocol

from bosdyn.api import image_pb2, service_customization_pb2
from bosdyn.client.image import build_image_request

from camera_service.capture.cameras import Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.config.model import Config
from camera_service.robot.faults import FaultReporter
from camera_service.robot.link import RobotLink
from camera_service.robot.registration import Registration
from camera_service.robot.time_sync import RobotClock
from camera_service.serving.servicer import ImageServicer
from camera_service.settings_page.camera_query import control_json, describe_device
from camera_service.sources.v4l2.discovery import VideoTree, preferred_path, stable_name
from camera_service.sources.v4l2.ioctl import V4L2Device
from camera_service.web.errors import BadRequest, SourceFault, UnknownService
from camera_service.web.frames import JpegFrame

QUERY_SECONDS = 5.0  # how long a node's formats/sizes/rates/controls answer is reused
_NOTHING: Dict[str, Any] = {"formats": [], "controls": []}


class RunningService(Protocol):
    """What the page reads of the running service (``CameraService``), and ``reload``."""

    @property
    def config(self) -> Config: ...
    @property
    def port(self) -> Optional[int]: ...
    @property
    def link(self) -> Optional[RobotLink]: ...
    @property
    def registration(self) -> Optional[Registration]: ...
    @property
    def clock(self) -> RobotClock: ...
    @property
    def faults(self) -> FaultReporter: ...
    @property
    def cameras(self) -> Cameras: ...
    @property
    def servicer(self) -> ImageServicer: ...
    @property
    def last_apply(self) -> Optional[Dict[str, Any]]: ...

    def reload(self) -> Dict[str, Any]: ...


class ServiceView:
    """Adapter from the running service to what the page shows; thread-safe."""

    def __init__(self, service: RunningService, tree: VideoTree | None = None,
                 device_factory: Callable[[str], Any] = V4L2Device) -> None:
        self._service = service
        self._tree = tree or VideoTree()
        self._device_factory = device_factory  # opens a node for queries (VIDIOC_ENUM_FMT)
        self._lock = threading.Lock()
        self._queries: Dict[str, tuple] = {}  # node -> (monotonic, describe_device answer)

    @property
    def service_name(self) -> str:
        return self._service.config.service.name

    # -- status ------------------------------------------------------------------------------
    def status(self) -> Dict[str, Any]:
        service = self._service
        link = service.link
        session = link.session if link is not None else None
        faults = service.faults.desired()
        return {
            "service": {"name": service.config.service.name,
                        "authority": service.config.service.authority,
                        "port": service.port},
            "robot": {
                "address": str(session.target) if session is not None else "",
                "authenticated": bool(session is not None and session.authenticated),
                "registered": bool(service.registration and service.registration.registered),
                "time_sync": service.clock.established,
                "connected": bool(link is not None and link.connected),
                "problem": link.problem if link is not None else None,
            },
            "sources": [self._source_status(capture, faults.get(capture.name))
                        for capture in service.cameras.capture_threads()],
            "last_apply": service.last_apply,
        }

    def _source_status(self, capture, fault: str | None) -> Dict[str, Any]:
        """One source as it is, not as configured: the rate its frames actually arrive at
        (counted by the capture stage), the size of the frames it actually delivers, and a
        faulted source as faulted with its reason - no size nor rate made up for it."""
        status = capture.state.status()
        info = status.info
        reason = fault or status.failure
        if reason is not None:
            state = "faulted"
        elif status.frames == 0:
            state = "starting"
        else:
            state = "streaming"
        granted = None
        if reason is None and status.frame_size is not None and info is not None:
            width, height = status.frame_size
            granted = {"width": width, "height": height,
                       "format": "JPEG from the camera" if info.native_jpeg else "raw pixels",
                       # the rate the camera (driver) says it runs at; 0: it does not say
                       "camera_fps": round(info.fps, 2) if info.fps > 0 else None,
                       "detail": info.detail}
        native = bool(info.native_jpeg) if info is not None else None
        fps = capture.state.delivered_fps() if reason is None else None
        return {
            "name": capture.name, "type": capture.kind, "where": capture.describe(),
            "state": state, "fault": reason, "fps": None if fps is None else round(fps, 1),
            "frames": status.frames, "granted": granted,
            "passthrough": _passthrough(native, capture.jpeg_quality),
        }

    # -- cameras present ---------------------------------------------------------------------
    def cameras(self) -> Dict[str, Any]:
        """Every video node present (capture and metadata-only), the stable name to use, which
        configured source uses it, and for a capture node its formats (each with sizes and
        rates) and controls, configured or not; plus the configured sources' controls."""
        used = {}  # real path of a configured device -> source name
        captures = self._service.cameras.capture_threads()
        for capture in captures:
            device = capture.settings.options.get("device") if capture.kind == "v4l2" else None
            if isinstance(device, str):
                used[os.path.realpath(device)] = capture.name
        present: List[Dict[str, Any]] = []
        for node in self._tree.nodes():
            device = preferred_path(node)
            configured = used.get(os.path.realpath(node.path))
            offers = self._query(node.path) if node.can_capture else _NOTHING
            present.append({"node": node.path, "card": node.card, "captures": node.can_capture,
                            "device": device, "suggested_name": stable_name(node),
                            "stable_paths": list(node.stable_paths), "source": configured,
                            "formats": offers["formats"], "controls": offers["controls"]})
        controls = {}
        for capture in captures:
            try:
                listed = capture.controls()
            except Exception:
                listed = []
            controls[capture.name] = [control_json(c) for c in listed]
        return {"dev_root": self._tree.dev_root, "present": present, "controls": controls}

    def _query(self, node: str) -> Dict[str, Any]:
        """``camera_query.describe_device`` of a node, reused for ``QUERY_SECONDS``; empty
        when the node cannot be opened."""
        now = time.monotonic()
        with self._lock:
            cached = self._queries.get(node)
        if cached is not None and now - cached[0] < QUERY_SECONDS:
            return cached[1]
        try:
            device = self._device_factory(node)
        except OSError:
            return _NOTHING
        try:
            answer = describe_device(device)
        finally:
            device.close()
        with self._lock:
            self._queries[node] = (now, answer)
        return answer

    # -- live controls -------------------------------------------------------------------------
    def controls(self, source: str) -> List[Dict[str, Any]]:
        """The controls ``source``'s camera reports, with their current values."""
        return [control_json(c) for c in self._capture(source).controls()]

    def set_controls(self, source: str, values: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Set camera controls the way a GetImage request's custom parameters do (the same
        request through the service's own servicer: validated against the camera's spec,
        the servicer's record of the values kept right); returns once a frame captured after
        the change is served. Raises ``BadRequest`` (unknown control, value refused)."""
        capture = self._capture(source)
        by_name = {control.name: control for control in capture.controls()}
        params = service_customization_pb2.DictParam()
        for name, value in values.items():
            control = by_name.get(name)
            if control is None:
                raise BadRequest(f"{source} has no control {name!r}")
            _set_param(params.values[name], control.kind, value, name)
        request = build_image_request(source, quality_percent=50,
                                      image_format=image_pb2.Image.FORMAT_JPEG,
                                      resize_ratio=0.25)
        request.custom_params.CopyFrom(params)
        self._answer(source, request, BadRequest)
        return self.controls(source)

    def reset_controls(self, source: str) -> List[Dict[str, Any]]:
        """Every control of ``source`` back to the camera's default."""
        return self.set_controls(source, {c.name: c.default
                                          for c in self._capture(source).controls()})

    def _capture(self, source: str) -> CaptureThread:
        running = self._service.cameras.get(source)
        if running is None:
            raise UnknownService(f"no source {source!r} in this service")
        return running.capture

    # -- preview -----------------------------------------------------------------------------
    def frame(self, source: str, quality: int, resize: float) -> JpegFrame:
        self._capture(source)
        request = build_image_request(source, quality_percent=quality,
                                      image_format=image_pb2.Image.FORMAT_JPEG,
                                      resize_ratio=resize)
        started = time.monotonic()
        response = self._answer(source, request, SourceFault)
        image = response.shot.image
        local = self._service.clock.local_seconds(response.shot.acquisition_time)
        return JpegFrame(image.data, image.cols, image.rows, time.monotonic() - started, local)

    def _answer(self, source: str, request, error: type) -> Any:
        """The servicer's answer to ``request``; a non-OK one raises ``error``."""
        response = self._service.servicer.answer(request)
        if response.status != image_pb2.ImageResponse.STATUS_OK:
            reasons = list(response.custom_param_error.error_messages)
            status = image_pb2.ImageResponse.Status.Name(response.status)
            raise error(f"{source}: {reasons[0] if reasons else status}", status=status)
        return response

    # -- apply ----------------------------------------------------------------------------
    def apply(self) -> Dict[str, Any]:
        return self._service.reload()


def _set_param(param, kind: str, value: Any, name: str) -> None:
    """``value`` into a custom parameter of the control's ``kind``; ``BadRequest`` when it
    is not of that kind."""
    try:
        if kind == "int":
            param.int_value.value = int(value)
        elif kind == "float":
            param.double_value.value = float(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(value)
            param.bool_value.value = value
        else:
            param.string_value.value = str(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name}: {value!r} is not a {kind} value") from None


def _passthrough(native_jpeg: bool | None, quality: int) -> str:
    """The JPEG policy in force for a source, as one line."""
    if native_jpeg is None:
        return "not known until the camera opens"
    if native_jpeg:
        return ("the camera's own JPEG is served as is for full-size requests; "
                "others are re-encoded")
    return f"raw pixels encoded once per frame and request shape (default quality {quality})"
