"""The ``bosdyn.api.ImageService`` servicer: ListImageSources and GetImage, RPC steps only.

GetImage serves the latest frame from the ``FrameStore`` (it never captures on the RPC
thread) through the encode-once ``OutputCache``. Every problem with a request or a camera is
answered with an ``ImageResponse`` status and a one-line message; the RPC itself does not
fail.

The path of one image request, stage by stage (docs/architecture.md). The request is read
once, in step 2; every later step works on its ``RequestSpec``, and no step is done twice:

1. guard (here): the call's memory budget admits the image (``serving.budget``), the camera
   is known, and its open is read (``CameraStatus``); a camera never opened yet is waited
   for (its first frame tells what it offers);
2. request spec (``serving.request_spec``): the request parsed and validated once against
   that open (``Capabilities``) into a ``RequestSpec``, or refused;
3. cameras and store (``capture``): the spec's control values set on the camera
   (``_set_controls``), the frame to serve taken from the store - the latest, or the first
   whose record shows a control change (``_frame_showing_change``) - checked for staleness;
4. encoding (``encoding``): the request fitted to that frame (``OutputRequest.fit``: size,
   passthrough, quality); the memory budget reserves room for producing it (and settles
   once its bytes exist), the ``OutputCache`` makes the bytes once per (frame, output);
5. description (``serving.description``): the camera's ``ImageSource`` (built once per
   camera state) and the OK response of (frame, output), built inside the cache so it is
   serialized once and shared;
6. wire (``serving.wire``): the GetImageResponse assembled from the serialized parts behind a
   fresh header (``get_image_bytes``, registered by ``serving.malformed.add_image_service``;
   ``GetImage``/``answer`` give the same answers as messages).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Dict, Mapping

import bosdyn.util
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc
from bosdyn.api import service_customization_pb2 as sc
from bosdyn.client.server_util import ResponseContext

from camera_service.capture.camera_state import CameraStatus
from camera_service.capture.cameras import Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.core.memory_limits import BudgetLimits, resolve_limit
from camera_service.core.redaction import scrub
from camera_service.encoding.encoder import EncodingError, OutputSpec, is_passthrough
from camera_service.encoding.output_cache import OutputCache
from camera_service.geometry.frames import merged
from camera_service.serving import custom_params, request_spec, wire
from camera_service.serving.budget import CallBudget, MemoryBudget
from camera_service.serving.description import (
    Descriptions,
    RobotTimeConverter,
    local_timestamp,
)
from camera_service.serving.request_guard import RequestGuard
from camera_service.serving.request_spec import RequestRejected, RequestSpec
from camera_service.sources.base import ControlValue

_LOG = logging.getLogger(__name__)
Status = image_pb2.ImageResponse


@dataclass
class _Controls:
    """One camera open's control spec (fixed at the open) and the values it has, as read at
    the open and set since through this service."""

    generation: int
    spec: sc.DictParam.Spec
    values: Dict[str, ControlValue]


class ImageServicer(image_service_pb2_grpc.ImageServiceServicer):
    """Serves the running ``cameras`` (read through the owner's live views: ``captures``,
    one ``CaptureThread`` per source by name, and each source's geometry, described by
    ``descriptions``).

    ``first_frame_timeout``: how long a request waits for a source that is starting and has
    not delivered yet. ``stale_after``: a frame older than this many seconds (or 10 frame
    periods, whichever is longer) is not served: the camera is stalled. ``budget``: the memory
    budget every GetImage call draws from (default: from the container's limit).
    ``guard``: the GetImage boundary's limits (default: from the budget's ``max_images``);
    the service's watchdog calls its ``cancel_overdue``.
    """

    def __init__(self, cameras: Cameras, store: FrameStore, cache: OutputCache,
                 to_robot_time: RobotTimeConverter = local_timestamp,
                 first_frame_timeout: float = 2.0, stale_after: float = 2.0,
                 budget: MemoryBudget | None = None,
                 guard: RequestGuard | None = None) -> None:
        super().__init__()
        self.captures: Mapping[str, CaptureThread] = cameras.captures  # live, read-only
        self.store = store
        self.cache = cache
        self.first_frame_timeout = first_frame_timeout
        self.stale_after = stale_after
        self.descriptions = Descriptions(store, cameras, to_robot_time)
        self._controls: Dict[str, _Controls] = {}
        self._controls_lock = threading.Lock()
        self.budget = budget or MemoryBudget(BudgetLimits.from_limit(resolve_limit(0)[0]))
        self.guard = guard or RequestGuard(self.budget.limits.max_images)
        self.budget.on_pressure = self.guard.on_pressure

    # -- ListImageSources ----------------------------------------------------------------
    def ListImageSources(self, request, context):
        response = image_pb2.ListImageSourcesResponse()
        with ResponseContext(response, request):
            for capture in self.captures.values():
                response.image_sources.add().CopyFrom(
                    self.descriptions.describe(capture).source)
            snapshots = [s for s in (g.snapshot()
                                     for g in self.descriptions.geometries.values())
                         if s is not None]
            if snapshots:
                response.transforms_snapshot.CopyFrom(merged(snapshots))
        return response

    # -- GetImage ------------------------------------------------------------------------
    def GetImage(self, request, context):
        """The GetImage answer as a message (``get_image_bytes`` parsed)."""
        return image_pb2.GetImageResponse.FromString(self.get_image_bytes(request, context))

    def get_image_bytes(self, request: image_pb2.GetImageRequest, context) -> bytes:
        """The serialized GetImageResponse. Answers every image request within the memory
        budget; stops working as soon as the call is cancelled or past its deadline (nobody
        would get the answer)."""
        received = bosdyn.util.now_timestamp()
        refused, guarded = self.guard.admit(request, context)  # limits: serving.request_guard
        if refused is not None or guarded is None:
            return refused or b""  # admit gives exactly one of the two
        call = self.budget.open_call(guarded.time_remaining)
        if context is None or not context.add_callback(call.close):
            call.close()  # no RPC to wait for (direct call) or it has already ended
        parts = []
        for image_request in request.image_requests:
            if not guarded.still_wanted():
                break
            parts.append(self.answer_bytes(image_request, call))
        header = header_pb2.ResponseHeader(request_header=request.header,
                                           request_received_timestamp=received)
        header.error.code = header_pb2.CommonError.CODE_OK
        header.response_timestamp.CopyFrom(bosdyn.util.now_timestamp())
        answer = wire.get_image_response(header, parts)
        guarded.handed_over(len(answer))
        return answer

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
        try:
            return self._answer(call, capture, request)
        except RequestRejected as rejected:
            return _failure(rejected.status, str(rejected), self._source(capture))
        except custom_params.CustomParamsError as err:
            response = image_pb2.ImageResponse(status=Status.STATUS_CUSTOM_PARAMS_ERROR,
                                               source=self._source(capture))
            response.custom_param_error.CopyFrom(err.error)
            return response.SerializeToString()
        except EncodingError as err:
            return _failure(Status.STATUS_IMAGE_DATA_ERROR, f"camera {capture.name!r}: {err}",
                            self._source(capture))
        except Exception as err:  # a bug: answer this image, keep the others and the RPC
            _LOG.exception("GetImage for %r failed unexpectedly", capture.name)
            return _failure(Status.STATUS_IMAGE_DATA_ERROR, f"internal error serving "
                            f"{capture.name!r}: {type(err).__name__}", self._source(capture))

    def _answer(self, call: CallBudget, capture: CaptureThread,
                request: image_pb2.ImageRequest) -> bytes:
        """The steps after the guard (module doc); raises what the steps refuse with."""
        status = capture.state.status()
        if status.info is None:  # never opened: what it offers comes with its first frame
            self._first_frame(capture)
            status = capture.state.status()
        spec = request_spec.parse(request, self._capabilities(capture, status))
        stored = self._frame(call, capture, status, spec)
        return self._served(call, capture, stored, spec.output.fit(stored.frame))

    def _source(self, capture: CaptureThread) -> image_pb2.ImageSource:
        return self.descriptions.describe(capture).source

    # -- request spec ------------------------------------------------------------------
    def _capabilities(self, capture: CaptureThread,
                      status: CameraStatus) -> request_spec.Capabilities:
        """What ``capture``'s current open offers a request."""
        quality, policy = capture.jpeg_quality, capture.jpeg_passthrough
        return request_spec.Capabilities(
            status.channels, status.info.sixteen_bit if status.info is not None else None,
            self._known_controls(capture, status).spec, quality, policy)

    def _known_controls(self, capture: CaptureThread, status: CameraStatus) -> _Controls:
        """The control spec fixed at the camera's open and the values it has (as read at the
        open and set since through this service): nothing read from the device per request."""
        with self._controls_lock:
            known = self._controls.get(capture.name)
            if known is None or known.generation != status.generation:
                known = _Controls(status.generation, custom_params.spec_for(status.controls),
                                  {control.name: control.value for control in status.controls})
                self._controls[capture.name] = known
            return known

    # -- cameras and store -------------------------------------------------------------
    def _first_frame(self, capture: CaptureThread) -> StoredFrame:
        """The first frame of a camera that has not opened yet, waited for up to
        ``first_frame_timeout``; raises ``RequestRejected`` (failing, or nothing in time)."""
        failure = capture.state.status().failure
        stored = None if failure else self.store.wait_for_frame(capture.name, 0,
                                                                 self.first_frame_timeout)
        if stored is None:
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR,
                                  capture.state.status().failure or
                                  f"camera {capture.name!r} has not delivered a frame yet")
        return stored

    def _frame(self, call: CallBudget, capture: CaptureThread, status: CameraStatus,
               spec: RequestSpec) -> StoredFrame:
        """The frame to serve ``spec`` (parsed for the camera in ``status``): the latest
        one, or after the spec's control values changed the camera, the first one showing
        the change. Raises ``RequestRejected`` (camera failing, no frame, stalled)."""
        latest = self.store.latest(capture.name)
        changed = bool(spec.controls) and self._set_controls(capture, status, spec.controls)
        if changed:  # the camera may have failed at the change
            status = capture.state.status()
        if status.failure is not None:
            raise RequestRejected(Status.STATUS_IMAGE_DATA_ERROR, status.failure)
        period = status.frame_period or 0.1
        if changed:
            stored = self._frame_showing_change(call, capture, period)
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

    def _set_controls(self, capture: CaptureThread, status: CameraStatus,
                      values: Dict[str, ControlValue]) -> bool:
        """Set the (validated) control ``values`` that differ from what the camera has;
        True when one changed. A camera refusing a value raises ``CustomParamsError``."""
        known = self._known_controls(capture, status)
        with self._controls_lock:
            return bool(custom_params.set_changed(capture, values, known.values))

    def _frame_showing_change(self, call: CallBudget, capture: CaptureThread,
                              period: float) -> StoredFrame | None:
        """The first frame whose record (``Frame.controls``) shows the control change this
        request made, within the call's deadline (None: none in time)."""
        remaining = call.time_remaining()
        wait = max(2.0, 10 * period)
        return self.store.wait_for_controls(
            capture.name, capture.controls_issued,
            timeout=wait if remaining is None else min(wait, remaining))

    # -- encoding -> description --------------------------------------------------------
    def _served(self, call: CallBudget, capture: CaptureThread, stored: StoredFrame,
                output: OutputSpec) -> bytes:
        """The serialized OK response of (frame, output), made once and shared, produced
        inside the call's memory reservation."""
        frame = stored.frame
        camera_bytes = frame.jpeg if is_passthrough(frame, output) else None
        reservation = call.reserve(output, frame.width, frame.height, camera_bytes is not None,
                                   known_bytes=None if camera_bytes is None else len(camera_bytes),
                                   decode=frame.jpeg is not None)
        described = self.descriptions.describe(capture, stored)
        try:  # the response is built by the description, once per (frame, output)
            served = self.cache.served(stored, output, described.key, partial(
                self.descriptions.ok_response, capture, described, stored, output))
        except BaseException:
            call.settle(reservation, 0)
            raise
        call.settle(reservation, served.image_bytes)
        return served.data


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
