"""The ``bosdyn.api.ImageService`` servicer: ListImageSources and GetImage.

GetImage serves the latest frame from the ``FrameStore`` (it never captures on the RPC
thread) through the encode-once ``OutputCache``. Sources with geometry (``geometries``, see
``camera_service.geometry``) carry their camera model, scaled to the served size, in the
``ImageSource`` and ``frame_name_image_sensor`` + ``transforms_snapshot`` in every shot.
Every problem with a request or a camera is answered with an ``ImageResponse`` status and a
message; the RPC itself does not fail.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, Mapping, Sequence, Tuple

from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.server_util import ResponseContext
from google.protobuf.timestamp_pb2 import Timestamp

from camera_service.geometry.frames import merged
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.imaging import custom_params, view_params
from camera_service.imaging.budget import BudgetLimits, CallBudget, MemoryBudget, resolve_limit
from camera_service.imaging.request_resolution import (
    FORMAT_OF_NAME,
    PIXEL_FORMAT_OF_LAYOUT,
    RequestRejected,
    resolve_output,
    supported_layouts,
)
from camera_service.imaging.sixteen_bit_requests import resolve_sixteen_bit, served_pixel_formats
from camera_service.pipeline.camera_state import CameraStatus
from camera_service.pipeline.capture import CaptureThread
from camera_service.pipeline.encoding import EncodedImage, EncodingError, OutputSpec
from camera_service.pipeline.frame_store import FrameStore, StoredFrame
from camera_service.pipeline.output_cache import OutputCache
from camera_service.redaction import scrub
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


class ImageServicer(image_service_pb2_grpc.ImageServiceServicer):
    """Serves the cameras in ``captures`` (one ``CaptureThread`` per source, by name).

    ``first_frame_timeout``: how long a request waits for a source that is starting and has
    not delivered yet. ``stale_after``: a frame older than this many seconds (or 10 frame
    periods, whichever is longer) is not served: the camera is stalled. ``budget``: the memory
    budget every GetImage call draws from (default: from the container's limit).
    ``geometries``: per source name, its camera model and mount (``SourceGeometry``).
    """

    def __init__(self, captures: Sequence[CaptureThread], store: FrameStore, cache: OutputCache,
                 to_robot_time: RobotTimeConverter = local_timestamp,
                 first_frame_timeout: float = 2.0, stale_after: float = 2.0,
                 budget: MemoryBudget | None = None,
                 geometries: Mapping[str, SourceGeometry] | None = None) -> None:
        super().__init__()
        self.captures: Dict[str, CaptureThread] = {c.name: c for c in captures}
        self.store = store
        self.cache = cache
        self.to_robot_time = to_robot_time
        self.first_frame_timeout = first_frame_timeout
        self.stale_after = stale_after
        self._described: Dict[str, Tuple[tuple, image_pb2.ImageSource]] = {}
        self.geometries: Mapping[str, SourceGeometry] = geometries or {}
        self._resized: Dict[tuple, image_pb2.ImageSource] = {}
        self.budget = budget or MemoryBudget(BudgetLimits.from_limit(resolve_limit(0)[0]))

    def set_geometries(self, geometries: Mapping[str, SourceGeometry]) -> None:
        """New camera models and mounts (live config change): source descriptions built
        from the old ones are dropped (a reopened camera may start at the same generation)."""
        self.geometries = geometries
        self._described = {}
        self._resized = {}

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
        status = capture.state.status()
        latest = self.store.latest(capture.name)
        size = (latest.frame.width, latest.frame.height) if latest is not None else None
        key = (size, status.generation)
        cached = self._described.get(capture.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        source = self._build_source(capture, status, size)
        self._described[capture.name] = (key, source)
        return source

    def describe_resized(self, capture: CaptureThread, full: image_pb2.ImageSource,
                         size: Tuple[int, int]) -> image_pb2.ImageSource:
        """``full`` for a ``resize_ratio`` response of ``size``: rows/cols and the camera model
        at that size, so the model matches the image it comes with. Sources without a
        camera model are described as at full size (as before). Built once per size."""
        geometry = self.geometries.get(capture.name)
        if geometry is None or full.WhichOneof("camera_models") is None:
            return full
        key = (capture.name, id(full), size)
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
        """Answers every image request within the memory budget; stops working as soon as
        the call is cancelled or past its deadline (nobody would get the answer)."""
        response = image_pb2.GetImageResponse()
        call = self.budget.open_call(_time_remaining(context))
        if context is None or not context.add_callback(call.close):
            call.close()  # no RPC to wait for (direct call) or it has already ended
        with ResponseContext(response, request):
            for image_request in request.image_requests:
                if not _still_wanted(context):
                    break
                response.image_responses.add().CopyFrom(self.answer(image_request, call))
        return response

    def answer(self, request: image_pb2.ImageRequest,
               call: CallBudget | None = None) -> image_pb2.ImageResponse:
        """One ImageResponse; never raises for bad input or a failing camera. ``call`` is the
        GetImage call's share of the memory budget (a fresh one when None)."""
        response = image_pb2.ImageResponse()
        if call is None:
            call = self.budget.open_call()
        try:
            call.admit()
        except RequestRejected as rejected:
            response.status = rejected.status
            _set_message(response, str(rejected))
            return response
        capture = self.captures.get(request.image_source_name)
        if capture is None:
            response.status = Status.STATUS_UNKNOWN_CAMERA
            _set_message(response, f"unknown image source {request.image_source_name!r}; "
                         f"this service has {', '.join(self.captures) or 'none'}")
            return response
        response.source.CopyFrom(self.describe_source(capture))
        try:
            stored = self._frame_for(capture, request)
            spec = self._resolve(capture, request, stored.frame)
            encoded = self._produce(call, stored, spec)
            if (spec.width, spec.height) != (stored.frame.width, stored.frame.height):
                response.source.CopyFrom(self.describe_resized(
                    capture, self.describe_source(capture), (spec.width, spec.height)))
        except RequestRejected as rejected:
            response.status = rejected.status
            _set_message(response, str(rejected))
            return response
        except custom_params.CustomParamsError as err:
            response.status = Status.STATUS_CUSTOM_PARAMS_ERROR
            response.custom_param_error.CopyFrom(err.error)
            return response
        except EncodingError as err:
            response.status = Status.STATUS_IMAGE_DATA_ERROR
            _set_message(response, f"camera {capture.name!r}: {err}")
            return response
        except Exception as err:  # a bug: answer this image, keep the others and the RPC
            _LOG.exception("GetImage for %r failed unexpectedly", capture.name)
            response.status = Status.STATUS_IMAGE_DATA_ERROR
            _set_message(response, f"internal error serving {capture.name!r}: "
                         f"{type(err).__name__}")
            return response
        shot = response.shot
        shot.image.data = encoded.data
        shot.image.cols, shot.image.rows = spec.width, spec.height
        shot.image.format = FORMAT_OF_NAME[spec.format]
        shot.image.pixel_format = PIXEL_FORMAT_OF_LAYOUT[spec.layout]
        shot.acquisition_time.CopyFrom(self.to_robot_time(stored.frame.capture_time))
        if encoded.value_range is not None:  # the raw range a 16-bit source's view shows
            view_params.report_range(shot.capture_params.custom_params, encoded.value_range)
        geometry = self.geometries.get(capture.name)
        if geometry is not None and geometry.frame_name:
            shot.frame_name_image_sensor = geometry.frame_name
            shot.transforms_snapshot.CopyFrom(geometry.snapshot())
        response.status = Status.STATUS_OK
        return response

    def _produce(self, call: CallBudget, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        """The output bytes, produced inside the call's memory reservation."""
        frame = stored.frame
        passthrough = self.cache.passes_through(frame, spec)
        reservation = call.reserve(spec, frame.width, frame.height, passthrough,
                                   known_bytes=len(frame.jpeg) if passthrough else None)
        try:
            encoded = self.cache.get(stored, spec)
        except BaseException:
            call.settle(reservation, 0)
            raise
        call.settle(reservation, len(encoded.data))
        return encoded

    def _frame_for(self, capture: CaptureThread, request: image_pb2.ImageRequest) -> StoredFrame:
        """The frame to serve: the latest one, or the first one captured after this request
        changed a camera setting. Raises ``RequestRejected`` / ``CustomParamsError``."""
        # Validate the request's formats before touching the camera's settings.
        latest = self.store.latest(capture.name)
        if latest is not None:
            self._resolve(capture, request, latest.frame)
        changed = []
        if request.HasField("custom_params"):
            controls = request.custom_params
            info = capture.state.status().info
            if info is not None and info.sixteen_bit is not None:
                _, controls = view_params.split(controls)  # the view's: read in _resolve
            changed = custom_params.apply(capture, controls)
        status = capture.state.status()
        if status.failure is not None:
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR, status.failure)
        period = status.frame_period or 0.1
        if changed:
            stored = self.store.wait_for_frame(capture.name, latest.serial if latest else 0,
                                               timeout=max(1.0, 3 * period))
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
        return stored

    @staticmethod
    def _resolve(capture: CaptureThread, request: image_pb2.ImageRequest,
                 frame: Frame) -> OutputSpec:
        """The output for ``request`` from ``frame``; raises ``RequestRejected``."""
        status = capture.state.status()
        if not frame.sixteen_bit:
            return resolve_output(request, frame, status.channels, capture.jpeg_quality)
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


def _set_message(response: image_pb2.ImageResponse, message: str) -> None:
    """ImageResponse has no message field: the reason travels as a custom-param error
    message (which clients print) and is logged at debug. Credentials are scrubbed."""
    message = scrub(message)
    response.custom_param_error.error_messages.append(message)
    _LOG.debug("%s: %s", Status.Status.Name(response.status), message)
