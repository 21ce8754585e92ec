"""The ``bosdyn.api.ImageService`` servicer: ListImageSources and GetImage.

GetImage serves the latest frame from the ``FrameStore`` (it never captures on the RPC
thread) through the encode-once ``OutputCache``. Sources with geometry (``geometries``, see
``camera_service.geometry``) carry their camera model, scaled to the served size, in the
``ImageSource`` and ``frame_name_image_sensor`` + ``transforms_snapshot`` in every shot.
Every problem with a request or a camera is answered with an ``ImageResponse`` status and a
message; the RPC itself does not fail.

Per response only what must be done per response: the serialized ``ImageResponse`` of a
(frame, output) pair - image bytes, the camera's description, the robot-time acquisition
stamp, frame name and transforms - is made once (``OutputCache.served``) and shared by every
request for it; a GetImage resolves each request's output once, serializes a fresh header and
concatenates (``imaging.wire``). ``get_image_bytes`` is that path (registered by
``imaging.malformed.add_image_service``); ``GetImage``/``answer`` give the same answers as
messages. What is fixed per camera open (``CameraStatus.generation``: size, channels, the
control spec read at the open) is built once into the camera's description; fields of one
shot belong in ``_ok_response`` so they are cached with it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Tuple

import bosdyn.util
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc
from bosdyn.api import service_customization_pb2 as sc
from bosdyn.client.server_util import ResponseContext
from google.protobuf.timestamp_pb2 import Timestamp

from camera_service.capture.camera_state import CameraStatus
from camera_service.capture.cameras import Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.core.memory_limits import BudgetLimits, resolve_limit
from camera_service.core.redaction import scrub
from camera_service.encoding.encoder import EncodedImage, EncodingError, OutputSpec
from camera_service.encoding.output_cache import OutputCache
from camera_service.geometry.frames import merged
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.serving import custom_params, shot_params, view_params, wire
from camera_service.serving.budget import CallBudget, MemoryBudget
from camera_service.serving.request_resolution import (
    FORMAT_OF_NAME,
    PIXEL_FORMAT_OF_LAYOUT,
    RequestRejected,
    resolve_output,
    supported_layouts,
)
from camera_service.serving.sixteen_bit_requests import resolve_sixteen_bit, served_pixel_formats
from camera_service.sources.base import Frame

_LOG = logging.getLogger(__name__)
Status = image_pb2.ImageResponse

# local wall-clock seconds -> robot-time Timestamp (see robot.time_sync)
RobotTimeConverter = Callable[[float], Timestamp]


def local_timestamp(local_secs: float) -> Timestamp:
    """Fallback converter: local time as is (used when no robot clock is available)."""
    stamp = Timestamp()
    stamp.FromNanoseconds(int(local_secs * 1e9))
    return stamp


@dataclass(frozen=True)
class ServedResponse:
    """A serialized OK ImageResponse and the size of the image bytes in it (what the memory
    budget counts); ``len`` is the serialized size (what the output cache counts)."""

    data: bytes
    image_bytes: int

    def __len__(self) -> int:
        return len(self.data)


@dataclass
class _Controls:
    """One camera open's control spec (fixed at the open) and the values it has, as read at
    the open and set since through this service."""

    generation: int
    spec: sc.DictParam.Spec
    values: Dict[str, object]


class ImageServicer(image_service_pb2_grpc.ImageServiceServicer):
    """Serves the running ``cameras`` (read through the owner's live views: ``captures``,
    one ``CaptureThread`` per source by name, and ``geometries``, each source's camera
    model and mount as a ``SourceGeometry``).

    ``first_frame_timeout``: how long a request waits for a source that is starting and has
    not delivered yet. ``stale_after``: a frame older than this many seconds (or 10 frame
    periods, whichever is longer) is not served: the camera is stalled. ``budget``: the memory
    budget every GetImage call draws from (default: from the container's limit).
    """

    def __init__(self, cameras: Cameras, store: FrameStore, cache: OutputCache,
                 to_robot_time: RobotTimeConverter = local_timestamp,
                 first_frame_timeout: float = 2.0, stale_after: float = 2.0,
                 budget: MemoryBudget | None = None) -> None:
        super().__init__()
        self._cameras = cameras
        self.captures: Mapping[str, CaptureThread] = cameras.captures  # live, read-only
        self.geometries: Mapping[str, SourceGeometry] = cameras.geometries  # live, read-only
        self.store = store
        self.cache = cache
        self.to_robot_time = to_robot_time
        self.first_frame_timeout = first_frame_timeout
        self.stale_after = stale_after
        # Descriptions are cached under the cameras' version too (part of every cached
        # response's key): a replaced camera may start at the same generation.
        self._described: Dict[str, Tuple[tuple, image_pb2.ImageSource]] = {}
        self._resized: Dict[tuple, image_pb2.ImageSource] = {}
        self._controls: Dict[str, _Controls] = {}
        self._controls_lock = threading.Lock()
        self.budget = budget or MemoryBudget(BudgetLimits.from_limit(resolve_limit(0)[0]))

    # -- ListImageSources ----------------------------------------------------------------
    def ListImageSources(self, request, context):
        response = image_pb2.ListImageSourcesResponse()
        with ResponseContext(response, request):
            for capture in self.captures.values():
                response.image_sources.add().CopyFrom(self.describe_source(capture))
            snapshots = [s for s in (g.snapshot() for g in self.geometries.values())
                         if s is not None]
            if snapshots:
                response.transforms_snapshot.CopyFrom(merged(snapshots))
        return response

    def describe_source(self, capture: CaptureThread) -> image_pb2.ImageSource:
        """The ImageSource entry of one camera: size, formats, custom-parameter spec, camera
        model (at the delivered size).

        Built once per camera state (delivered size, and the open generation, which fixes
        the granted channels and the control spec read at that open) and reused: it goes
        into every ImageResponse.
        """
        return self._describe(capture, capture.state.status())[1]

    def _describe(self, capture: CaptureThread, status: CameraStatus
                  ) -> Tuple[tuple, image_pb2.ImageSource]:
        """(key, ImageSource) of ``describe_source``; responses are cached under the key."""
        latest = self.store.latest(capture.name)
        size = (latest.frame.width, latest.frame.height) if latest is not None else None
        key = (size, status.generation, self._cameras.version)
        cached = self._described.get(capture.name)
        if cached is not None and cached[0] == key:
            return cached
        described = (key, self._build_source(capture, status, size))
        self._described[capture.name] = described
        return described

    def describe_resized(self, capture: CaptureThread,
                         described: Tuple[tuple, image_pb2.ImageSource],
                         size: Tuple[int, int]) -> image_pb2.ImageSource:
        """The full-size description ``described`` (``(key, ImageSource)`` of
        ``_describe``) for a ``resize_ratio`` response of ``size``: rows/cols and the camera
        model at that size, so the model matches the image it comes with. Sources without a
        camera model are described as at full size (as before). Built once per description
        key and size."""
        full = described[1]
        geometry = self.geometries.get(capture.name)
        if geometry is None or full.WhichOneof("camera_models") is None:
            return full
        key = (capture.name, described[0], size)
        cached = self._resized.get(key)
        if cached is not None:
            return cached
        resized = image_pb2.ImageSource()
        resized.CopyFrom(full)
        resized.cols, resized.rows = size
        resized.ClearField(full.WhichOneof("camera_models"))
        model = geometry.model_at(*size, delivered=(full.cols, full.rows))
        if model is not None:
            model.fill_source(resized)
        if len(self._resized) >= 64 * max(1, len(self.captures)):
            self._resized.clear()  # old opens and rarely asked sizes
        self._resized[key] = resized
        return resized

    def _build_source(self, capture: CaptureThread, status: CameraStatus,
                      size: Tuple[int, int] | None) -> image_pb2.ImageSource:
        source = image_pb2.ImageSource(name=capture.name,
                                       image_type=image_pb2.ImageSource.IMAGE_TYPE_VISUAL)
        if size is not None:
            source.cols, source.rows = size
        elif status.info is not None:
            source.cols, source.rows = status.info.width, status.info.height
        else:
            source.cols, source.rows = capture.expected_size()
        profile = status.info.sixteen_bit if status.info is not None else None
        if profile is not None:
            source.pixel_formats.extend(served_pixel_formats(profile))
            if profile.image_type == "depth":
                source.image_type = image_pb2.ImageSource.IMAGE_TYPE_DEPTH
                source.depth_scale = profile.depth_scale
        else:
            for layout in supported_layouts(status.channels):
                source.pixel_formats.append(PIXEL_FORMAT_OF_LAYOUT[layout])
        source.image_formats.extend([image_pb2.Image.FORMAT_JPEG, image_pb2.Image.FORMAT_RAW])
        spec = custom_params.spec_for(status.controls)
        if profile is not None:  # the 8-bit view's settings, per request
            for name, entry in view_params.view_spec(profile, len(spec.specs)).specs.items():
                spec.specs[name].CopyFrom(entry)
        if spec.specs:
            source.custom_params.CopyFrom(spec)
        geometry = self.geometries.get(capture.name)
        model = geometry.model_at(source.cols, source.rows) if geometry else None
        if model is not None:
            model.fill_source(source)
        return source

    # -- GetImage ------------------------------------------------------------------------
    def GetImage(self, request, context):
        """The GetImage answer as a message (``get_image_bytes`` parsed)."""
        return image_pb2.GetImageResponse.FromString(self.get_image_bytes(request, context))

    def get_image_bytes(self, request: image_pb2.GetImageRequest, context) -> bytes:
        """The serialized GetImageResponse. Answers every image request within the memory
        budget; stops working as soon as the call is cancelled or past its deadline (nobody
        would get the answer)."""
        received = bosdyn.util.now_timestamp()
        call = self.budget.open_call(_time_remaining(context))
        if context is None or not context.add_callback(call.close):
            call.close()  # no RPC to wait for (direct call) or it has already ended
        parts = []
        for image_request in request.image_requests:
            if not _still_wanted(context):
                break
            parts.append(self.answer_bytes(image_request, call))
        header = header_pb2.ResponseHeader(request_header=request.header,
                                           request_received_timestamp=received)
        header.error.code = header_pb2.CommonError.CODE_OK
        header.response_timestamp.CopyFrom(bosdyn.util.now_timestamp())
        return wire.get_image_response(header, parts)

    def answer(self, request: image_pb2.ImageRequest,
               call: CallBudget | None = None) -> image_pb2.ImageResponse:
        """One ImageResponse as a message (``answer_bytes`` parsed)."""
        return image_pb2.ImageResponse.FromString(self.answer_bytes(request, call))

    def answer_bytes(self, request: image_pb2.ImageRequest,
                     call: CallBudget | None = None) -> bytes:
        """One serialized ImageResponse; never raises for bad input or a failing camera.
        ``call`` is the GetImage call's share of the memory budget (a fresh one when None)."""
        if call is None:
            call = self.budget.open_call()
        try:
            call.admit()
        except RequestRejected as rejected:
            return _failure(rejected.status, str(rejected))
        capture = self.captures.get(request.image_source_name)
        if capture is None:
            return _failure(Status.STATUS_UNKNOWN_CAMERA,
                            f"unknown image source {request.image_source_name!r}; this "
                            f"service has {', '.join(self.captures) or 'none'}")
        described = self._describe(capture, capture.state.status())
        source = described[1]
        try:
            stored, spec = self._frame_and_output(capture, request, call)
            return self._served(call, capture, described, stored, spec)
        except RequestRejected as rejected:
            return _failure(rejected.status, str(rejected), source)
        except custom_params.CustomParamsError as err:
            response = image_pb2.ImageResponse(status=Status.STATUS_CUSTOM_PARAMS_ERROR,
                                               source=source)
            response.custom_param_error.CopyFrom(err.error)
            return response.SerializeToString()
        except EncodingError as err:
            return _failure(Status.STATUS_IMAGE_DATA_ERROR, f"camera {capture.name!r}: {err}",
                            source)
        except Exception as err:  # a bug: answer this image, keep the others and the RPC
            _LOG.exception("GetImage for %r failed unexpectedly", capture.name)
            return _failure(Status.STATUS_IMAGE_DATA_ERROR, f"internal error serving "
                            f"{capture.name!r}: {type(err).__name__}", source)

    def _served(self, call: CallBudget, capture: CaptureThread, described: tuple,
                stored: StoredFrame, spec: OutputSpec) -> bytes:
        """The serialized OK response of (frame, output), made once and shared, produced
        inside the call's memory reservation."""
        frame = stored.frame
        passthrough = self.cache.passes_through(frame, spec)
        reservation = call.reserve(spec, frame.width, frame.height, passthrough,
                                   known_bytes=len(frame.jpeg) if passthrough else None,
                                   decode=frame.jpeg is not None)
        try:
            served = self.cache.served(stored, spec, described[0], lambda encoded: (
                self._ok_response(capture, described, stored, spec, encoded)))
        except BaseException:
            call.settle(reservation, 0)
            raise
        call.settle(reservation, served.image_bytes)
        return served.data

    def _ok_response(self, capture: CaptureThread,
                     described: Tuple[tuple, image_pb2.ImageSource], stored: StoredFrame,
                     spec: OutputSpec, encoded: EncodedImage) -> ServedResponse:
        """The OK response of one (frame, output), serialized (built once per pair)."""
        response = image_pb2.ImageResponse(status=Status.STATUS_OK)
        source = described[1]
        if (spec.width, spec.height) != (stored.frame.width, stored.frame.height):
            source = self.describe_resized(capture, described, (spec.width, spec.height))
        response.source.CopyFrom(source)
        shot = response.shot
        shot.image.data = encoded.data
        shot.image.cols, shot.image.rows = spec.width, spec.height
        shot.image.format = FORMAT_OF_NAME[spec.format]
        shot.image.pixel_format = PIXEL_FORMAT_OF_LAYOUT[spec.layout]
        shot.acquisition_time.CopyFrom(self.to_robot_time(stored.frame.capture_time))
        shot_params.fill(shot.capture_params, capture.kind, stored.frame.controls.values)
        if encoded.value_range is not None:  # the raw range a 16-bit source's view shows
            view_params.report_range(shot.capture_params.custom_params, encoded.value_range)
        geometry = self.geometries.get(capture.name)
        if geometry is not None and geometry.frame_name:
            shot.frame_name_image_sensor = geometry.frame_name
            shot.transforms_snapshot.CopyFrom(geometry.snapshot())
        return ServedResponse(response.SerializeToString(), len(encoded.data))

    def _frame_and_output(self, capture: CaptureThread, request: image_pb2.ImageRequest,
                          call: CallBudget) -> Tuple[StoredFrame, OutputSpec]:
        """The frame to serve - the latest one, or the first one whose record shows the
        camera settings this request changed - and the output resolved for it (once, unless
        the frame served is not the one validated). Raises ``RequestRejected`` /
        ``CustomParamsError``."""
        latest = self.store.latest(capture.name)
        # Validate the request's formats before touching the camera's settings.
        spec = self._resolve(capture, request, latest.frame) if latest is not None else None
        changed = []
        if request.HasField("custom_params"):
            changed = self._apply_controls(capture, request.custom_params)
        status = capture.state.status()
        if status.failure is not None:
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR, status.failure)
        period = status.frame_period or 0.1
        if changed:
            # Frames carry the controls in effect when captured (Frame.controls): wait for
            # the first showing this change, within the call's deadline.
            remaining = call.time_remaining()
            wait = max(2.0, 10 * period)
            stored = self.store.wait_for_controls(
                capture.name, capture.controls_issued,
                timeout=wait if remaining is None else min(wait, remaining))
        elif latest is None:
            stored = self.store.wait_for_frame(capture.name, 0, self.first_frame_timeout)
        else:
            stored = latest
        if stored is None:
            reason = capture.state.status().failure or (
                f"camera {capture.name!r} has not delivered a frame yet")
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR, reason)
        age = time.monotonic() - stored.stored_at
        if age > max(self.stale_after, 10 * period):
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR,
                                  f"camera {capture.name!r} has delivered no frame for "
                                  f"{age:.1f} s")
        if spec is None or stored is not latest:
            spec = self._resolve(capture, request, stored.frame)
        return stored, spec

    def _apply_controls(self, capture: CaptureThread, params: sc.DictParam) -> list:
        """Validate the request's camera controls against the spec fixed at the camera's
        open and set those that differ from what the camera has (as read at the open and set
        since through this service): nothing rebuilt or read from the device per request.
        The view parameters of a 16-bit source are not controls (``_resolve`` reads them)."""
        status = capture.state.status()
        if status.info is not None and status.info.sixteen_bit is not None:
            _, params = view_params.split(params)
        with self._controls_lock:
            known = self._controls.get(capture.name)
            if known is None or known.generation != status.generation:
                known = _Controls(status.generation, custom_params.spec_for(status.controls),
                                  {control.name: control.value for control in status.controls})
                self._controls[capture.name] = known
            values = custom_params.requested_values(params, known.spec)
            return custom_params.set_changed(capture, values, known.values)

    @staticmethod
    def _resolve(capture: CaptureThread, request: image_pb2.ImageRequest,
                 frame: Frame) -> OutputSpec:
        """The output for ``request`` from ``frame``; raises ``RequestRejected``."""
        status = capture.state.status()
        if not frame.sixteen_bit:
            return resolve_output(request, frame, status.channels, capture.jpeg_quality,
                                  capture.jpeg_passthrough)
        profile = status.info.sixteen_bit if status.info is not None else None
        if profile is None:  # a frame from before a reopen in another format
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR,
                                  f"camera {capture.name!r} is changing format; retry")
        view = (view_params.requested_view(request.custom_params, profile)
                if request.HasField("custom_params") else None)
        return resolve_sixteen_bit(request, frame, profile, capture.jpeg_quality, view)


def _time_remaining(context):
    """The call's seconds left (None: no deadline, or no RPC context)."""
    if context is None:
        return lambda: None
    return context.time_remaining


def _still_wanted(context) -> bool:
    """False once the client has cancelled or the deadline has passed."""
    if context is None:
        return True
    if not context.is_active():
        return False
    remaining = context.time_remaining()
    return remaining is None or remaining > 0


def _failure(status: int, message: str,
             source: image_pb2.ImageSource | None = None) -> bytes:
    """A serialized ImageResponse with ``status`` and ``message``. ImageResponse has no
    message field: the reason travels as a custom-param error message (which clients print)
    and is logged at debug. Credentials are scrubbed."""
    message = scrub(message)
    response = image_pb2.ImageResponse(status=status)
    if source is not None:
        response.source.CopyFrom(source)
    response.custom_param_error.error_messages.append(message)
    _LOG.debug("%s: %s", Status.Status.Name(status), message)
    return response.SerializeToString()
