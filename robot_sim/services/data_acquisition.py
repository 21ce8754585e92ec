"""DataAcquisitionService: image captures and Data Acquisition plugins.

Capabilities are the image sources of the ImageServices registered in the directory (asked
with ListImageSources) and the data capabilities of the registered DataAcquisitionPluginServices
(asked with GetServiceInfo, ``robot_sim.daq_plugins``). AcquireData answers with a request id
once every plugin concerned accepted its captures (AcquirePluginData); images are captured in
the background through GetImage, and each plugin's GetStatus is followed on its own thread.
GetStatus merges the parts (``robot_sim.daq_acquisition``); CancelAcquisition reaches the
plugins; an acquisition still running past its deadline (``timeout_seconds`` after it began,
or the request's ``min_timeout``, or a later ``timeout_deadline`` from a plugin) ends as
STATUS_TIMEDOUT. Captured images land in the ``CaptureStore``; plugins store their own data
through the DataAcquisitionStore service.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import grpc
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_service_pb2_grpc, image_pb2, image_service_pb2_grpc

from robot_sim.capture_store import IMAGE, METADATA, CaptureStore, StoredItem
from robot_sim.daq_acquisition import Acquisition
from robot_sim.daq_live import live_data
from robot_sim.daq_plugins import PluginPart, PluginRefusedError, list_capabilities
from robot_sim.headers import CODE_INVALID_REQUEST, HeaderError, responds
from robot_sim.routing import Router
from robot_sim.services.base import SimServicer
from robot_sim.state import Registration
from robot_sim.tokens import bearer_token

LOG = logging.getLogger("robot_sim")
IMAGE_SERVICE_TYPE = "bosdyn.api.ImageService"
CALL_TIMEOUT_SECONDS = 5.0
KEPT_ACQUISITIONS = 1000
DEFAULT_TIMEOUT_SECONDS = 30.0
IMAGES_PART = "images"
Status = daq.GetStatusResponse
ImageJobs = Sequence[Tuple[Registration, daq.ImageSourceCapture]]


class DataAcquisitionServicer(SimServicer,
                              data_acquisition_service_pb2_grpc.DataAcquisitionServiceServicer):
    """See the module docstring."""

    def __init__(self, state, store: CaptureStore, router: Router,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(state)
        self.store = store
        self.timeout_seconds = timeout_seconds
        self._router = router
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._acquisitions: OrderedDict[int, Acquisition] = OrderedDict()

    def _image_stub(self, registration: Registration):
        return image_service_pb2_grpc.ImageServiceStub(
            self._router.channel(registration.host, registration.port))

    @responds(daq.GetServiceInfoResponse)
    def GetServiceInfo(self, request, context):
        response = daq.GetServiceInfoResponse()
        metadata = _auth_metadata(context)
        for registration in self.state.registrations_of_type(IMAGE_SERVICE_TYPE):
            try:
                sources = self._image_stub(registration).ListImageSources(
                    image_pb2.ListImageSourcesRequest(), metadata=metadata,
                    timeout=CALL_TIMEOUT_SECONDS).image_sources
            except grpc.RpcError as exc:
                LOG.warning("data acquisition: %s did not list its sources (%s)",
                            registration.entry.name, exc.code().name)
                continue
            capability = response.capabilities.image_sources.add(
                service_name=registration.entry.name)
            capability.image_source_names.extend(s.name for s in sources)
            capability.image_sources.extend(sources)
        for _, capabilities in list_capabilities(self.state, self._router, metadata):
            response.capabilities.data_sources.extend(capabilities)
        return response

    @responds(daq.AcquireDataResponse)
    def AcquireData(self, request, context):
        Response = daq.AcquireDataResponse
        requests = request.acquisition_requests
        metadata = _auth_metadata(context)
        services = {r.entry.name: r for r in self.state.registrations_of_type(IMAGE_SERVICE_TYPE)}
        owners = _capability_owners(list_capabilities(self.state, self._router, metadata)
                                    if requests.data_captures else [])
        unknown = ([c.image_service for c in requests.image_captures
                    if c.image_service not in services]
                   + [c.name for c in requests.data_captures if c.name not in owners])
        if unknown or requests.network_compute_captures:
            LOG.info("data acquisition refused: unknown capture type (%s)",
                     ", ".join(unknown) or "network compute capture")
            return Response(status=Response.STATUS_UNKNOWN_CAPTURE_TYPE)
        action_id = daq.CaptureActionId()
        action_id.CopyFrom(request.action_id)
        if not action_id.HasField("timestamp"):
            action_id.timestamp.CopyFrom(self.clock.now_timestamp())
        acquisition = Acquisition(next(self._ids), self._deadline(request))
        image_jobs = [(services[c.image_service], c) for c in requests.image_captures]
        try:
            parts = self._start_plugins(request, action_id, owners, acquisition, metadata)
        except PluginRefusedError as exc:
            LOG.info("data acquisition refused: %s", exc)
            if exc.status == daq.AcquirePluginDataResponse.STATUS_UNKNOWN_CAPTURE_TYPE:
                return Response(status=Response.STATUS_UNKNOWN_CAPTURE_TYPE)
            raise HeaderError(CODE_INVALID_REQUEST, str(exc)) from None
        with self._lock:
            self._acquisitions[acquisition.request_id] = acquisition
            while len(self._acquisitions) > KEPT_ACQUISITIONS:
                self._acquisitions.popitem(last=False)
        if request.HasField("metadata"):
            stored = daq.AssociatedMetadata(metadata=request.metadata)
            stored.reference_id.action_id.CopyFrom(action_id)
            self.store.add(StoredItem(daq.DataIdentifier(action_id=action_id, channel="metadata"),
                                      METADATA, metadata=stored))
        for part, waker in parts:
            threading.Thread(target=part.follow, args=(acquisition, waker, self.clock),
                             name="robot_sim-daq-plugin", daemon=True).start()
        if image_jobs:
            acquisition.begin_part(IMAGES_PART)  # checks ``acquisition.cancelled`` per image
            threading.Thread(target=self._capture, name="robot_sim-daq", daemon=True,
                             args=(acquisition, action_id, image_jobs, metadata)).start()
        LOG.info("data acquisition %d started: %d image capture(s), %d plugin(s)",
                 acquisition.request_id, len(image_jobs), len(parts))
        return Response(status=Response.STATUS_OK, request_id=acquisition.request_id)

    def _deadline(self, request: daq.AcquireDataRequest) -> int:
        seconds = self.timeout_seconds
        if request.HasField("min_timeout"):
            seconds = max(seconds, request.min_timeout.ToNanoseconds() / 1e9)
        return self.clock.now_nsec() + int(seconds * 1e9)

    def _start_plugins(self, request: daq.AcquireDataRequest, action_id: daq.CaptureActionId,
                       owners: Dict[str, Tuple[Registration, daq.DataAcquisitionCapability]],
                       acquisition: Acquisition, metadata):
        """AcquirePluginData to each plugin concerned; returns the started (part, waker)
        pairs. A refusal cancels the plugins already started and is raised."""
        captures = request.acquisition_requests
        data_ids = [daq.DataIdentifier(action_id=action_id, channel=_image_channel(c))
                    for c in captures.image_captures]
        data_ids += [daq.DataIdentifier(action_id=action_id,
                                        channel=owners[c.name][1].channel_name)
                     for c in captures.data_captures]
        per_plugin: Dict[str, List[daq.DataCapture]] = {}
        for capture in captures.data_captures:
            per_plugin.setdefault(owners[capture.name][0].entry.name, []).append(capture)
        started: List[Tuple[PluginPart, object]] = []
        for name, plugin_captures in per_plugin.items():
            registration = owners[plugin_captures[0].name][0]
            part = PluginPart(registration, self._router, metadata)
            plugin_request = daq.AcquirePluginDataRequest(
                data_id=data_ids, action_id=action_id,
                acquisition_requests=daq.AcquisitionRequestList(data_captures=plugin_captures))
            if request.HasField("metadata"):
                plugin_request.metadata.CopyFrom(request.metadata)
            try:
                part.start(plugin_request, acquisition)
            except PluginRefusedError:
                for other, _ in started:
                    other.cancel()
                raise
            if part.request_id is not None:
                started.append((part, acquisition.begin_part(name)))
        return started

    def _capture(self, acquisition: Acquisition, action_id: daq.CaptureActionId,
                 jobs: ImageJobs, metadata) -> None:
        try:
            for registration, capture in jobs:
                if acquisition.cancelled.is_set():
                    return
                if self.clock.now_nsec() > acquisition.deadline_nsec:
                    acquisition.time_out()
                    return
                image_request = _image_request(capture)
                data_id = daq.DataIdentifier(action_id=action_id,
                                             channel=image_request.image_source_name)
                error = self._capture_one(registration, image_request, data_id, metadata)
                if error is None:
                    acquisition.add_saved(IMAGES_PART, data_id)
                else:
                    acquisition.add_error(IMAGES_PART, daq.DataError(data_id=data_id,
                                                                     error_message=error))
        finally:
            acquisition.end_part(IMAGES_PART)
            LOG.info("data acquisition %d: images done", acquisition.request_id)

    def _capture_one(self, registration: Registration, image_request: image_pb2.ImageRequest,
                     data_id: daq.DataIdentifier, metadata) -> str | None:
        """Fetch and store one image; returns an error message or None."""
        where = f"{registration.entry.name}/{image_request.image_source_name}"
        try:
            response = self._image_stub(registration).GetImage(
                image_pb2.GetImageRequest(image_requests=[image_request]), metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            return f"{where}: GetImage failed ({exc.code().name})"
        if len(response.image_responses) != 1:
            return f"{where}: GetImage returned {len(response.image_responses)} images"
        image_response = response.image_responses[0]
        if image_response.status != image_pb2.ImageResponse.STATUS_OK:
            return "{}: {}".format(where, image_pb2.ImageResponse.Status.Name(
                image_response.status))
        self.store.add(StoredItem(data_id, IMAGE, image=image_response.shot))
        return None

    @responds(daq.GetStatusResponse)
    def GetStatus(self, request, context):
        response = daq.GetStatusResponse()
        acquisition = self._find(request.request_id)
        if acquisition is None:
            response.status = Status.STATUS_REQUEST_ID_DOES_NOT_EXIST
        else:
            acquisition.snapshot(response)
        return response

    @responds(daq.CancelAcquisitionResponse)
    def CancelAcquisition(self, request, context):
        Response = daq.CancelAcquisitionResponse
        acquisition = self._find(request.request_id)
        if acquisition is None:
            return Response(status=Response.STATUS_REQUEST_ID_DOES_NOT_EXIST)
        if not acquisition.request_cancel():
            return Response(status=Response.STATUS_FAILED_TO_CANCEL)
        return Response(status=Response.STATUS_OK)

    @responds(daq.LiveDataResponse)
    def GetLiveData(self, request, context):
        return live_data(request, list_capabilities(self.state, self._router,
                                                    _auth_metadata(context)),
                         self._router, _auth_metadata(context))

    def _find(self, request_id: int) -> Acquisition | None:
        with self._lock:
            return self._acquisitions.get(request_id)


def _capability_owners(listed) -> Dict[str, Tuple[Registration, daq.DataAcquisitionCapability]]:
    """Capability name -> (plugin registration, capability); the first plugin wins a name."""
    owners: Dict[str, Tuple[Registration, daq.DataAcquisitionCapability]] = {}
    for registration, capabilities in listed:
        for capability in capabilities:
            owners.setdefault(capability.name, (registration, capability))
    return owners


def _image_channel(capture: daq.ImageSourceCapture) -> str:
    return _image_request(capture).image_source_name


def _image_request(capture: daq.ImageSourceCapture) -> image_pb2.ImageRequest:
    """The ImageRequest of a capture (its own, or built from the older fields)."""
    if capture.HasField("image_request"):
        request = image_pb2.ImageRequest()
        request.CopyFrom(capture.image_request)
        return request
    return image_pb2.ImageRequest(image_source_name=capture.image_source,
                                  pixel_format=capture.pixel_format)


def _auth_metadata(context: grpc.ServicerContext):
    """The caller's bearer token, passed on to the services the robot calls for it."""
    token = bearer_token(context.invocation_metadata())
    return (("authorization", "Bearer " + token),) if token else ()
