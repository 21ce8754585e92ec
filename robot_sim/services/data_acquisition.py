"""DataAcquisitionService, enough for image captures.

Capabilities are the image sources of the ImageServices registered in the directory (asked
with ListImageSources). AcquireData answers at once with a request id and captures in the
background through GetImage on each service's registered endpoint; GetStatus reports
STATUS_ACQUIRING, then STATUS_COMPLETE or STATUS_DATA_ERROR with the failures; captured
images land in the ``CaptureStore`` that DataAcquisitionStoreService lists.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from typing import List, Sequence, Tuple

import grpc
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_service_pb2_grpc, image_pb2, image_service_pb2_grpc

from robot_sim.capture_store import IMAGE, METADATA, CaptureStore, StoredItem
from robot_sim.headers import responds
from robot_sim.routing import Router
from robot_sim.services.base import SimServicer
from robot_sim.state import Registration
from robot_sim.tokens import bearer_token

LOG = logging.getLogger("robot_sim")
IMAGE_SERVICE_TYPE = "bosdyn.api.ImageService"
CALL_TIMEOUT_SECONDS = 5.0
KEPT_ACQUISITIONS = 1000
Status = daq.GetStatusResponse


class Acquisition:
    """Progress of one AcquireData request."""

    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        self.lock = threading.Lock()
        self.status = Status.STATUS_ACQUIRING
        self.saved: List[daq.DataIdentifier] = []
        self.errors: List[daq.DataError] = []
        self.cancelled = threading.Event()

    def snapshot(self, response: daq.GetStatusResponse) -> None:
        with self.lock:
            response.status = self.status
            response.data_saved.extend(self.saved)
            response.data_errors.extend(self.errors)


class DataAcquisitionServicer(SimServicer,
                              data_acquisition_service_pb2_grpc.DataAcquisitionServiceServicer):
    """See the module docstring."""

    def __init__(self, state, store: CaptureStore, router: Router) -> None:
        super().__init__(state)
        self.store = store
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
        return response

    @responds(daq.AcquireDataResponse)
    def AcquireData(self, request, context):
        Response = daq.AcquireDataResponse
        requests = request.acquisition_requests
        services = {r.entry.name: r for r in self.state.registrations_of_type(IMAGE_SERVICE_TYPE)}
        unknown = [c.image_service for c in requests.image_captures
                   if c.image_service not in services]
        if unknown or requests.data_captures or requests.network_compute_captures:
            LOG.info("data acquisition refused: unknown capture type (%s)",
                     ", ".join(unknown) or "non-image capture")
            return Response(status=Response.STATUS_UNKNOWN_CAPTURE_TYPE)
        action_id = daq.CaptureActionId()
        action_id.CopyFrom(request.action_id)
        if not action_id.HasField("timestamp"):
            action_id.timestamp.CopyFrom(self.clock.now_timestamp())
        acquisition = Acquisition(next(self._ids))
        with self._lock:
            self._acquisitions[acquisition.request_id] = acquisition
            while len(self._acquisitions) > KEPT_ACQUISITIONS:
                self._acquisitions.popitem(last=False)
        if request.HasField("metadata"):
            metadata = daq.AssociatedMetadata(metadata=request.metadata)
            metadata.reference_id.action_id.CopyFrom(action_id)
            self.store.add(StoredItem(daq.DataIdentifier(action_id=action_id, channel="metadata"),
                                      METADATA, metadata=metadata))
        jobs = [(services[c.image_service], c) for c in requests.image_captures]
        threading.Thread(target=self._capture, name="robot_sim-daq", daemon=True,
                         args=(acquisition, action_id, jobs, _auth_metadata(context))).start()
        LOG.info("data acquisition %d started: %d image capture(s)", acquisition.request_id,
                 len(jobs))
        return Response(status=Response.STATUS_OK, request_id=acquisition.request_id)

    def _capture(self, acquisition: Acquisition, action_id: daq.CaptureActionId,
                 jobs: Sequence[Tuple[Registration, daq.ImageSourceCapture]],
                 metadata) -> None:
        for registration, capture in jobs:
            if acquisition.cancelled.is_set():
                with acquisition.lock:
                    acquisition.status = Status.STATUS_ACQUISITION_CANCELLED
                return
            image_request = _image_request(capture)
            data_id = daq.DataIdentifier(action_id=action_id,
                                         channel=image_request.image_source_name)
            error = self._capture_one(registration, image_request, data_id, metadata)
            with acquisition.lock:
                if error is None:
                    acquisition.saved.append(data_id)
                else:
                    acquisition.errors.append(daq.DataError(data_id=data_id,
                                                            error_message=error))
        with acquisition.lock:
            if acquisition.cancelled.is_set():
                acquisition.status = Status.STATUS_ACQUISITION_CANCELLED
            elif acquisition.errors:
                acquisition.status = Status.STATUS_DATA_ERROR
            else:
                acquisition.status = Status.STATUS_COMPLETE
        LOG.info("data acquisition %d done: %d saved, %d error(s)", acquisition.request_id,
                 len(acquisition.saved), len(acquisition.errors))

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
        with acquisition.lock:
            if acquisition.status != Status.STATUS_ACQUIRING:
                return Response(status=Response.STATUS_FAILED_TO_CANCEL)
            acquisition.status = Status.STATUS_CANCEL_IN_PROGRESS
        acquisition.cancelled.set()
        return Response(status=Response.STATUS_OK)

    def _find(self, request_id: int) -> Acquisition | None:
        with self._lock:
            return self._acquisitions.get(request_id)


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
