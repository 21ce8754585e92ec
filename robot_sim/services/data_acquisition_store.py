"""DataAcquisitionStoreService: lists and returns what Data Acquisition captured (in memory)."""

from __future__ import annotations

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.api import data_acquisition_store_service_pb2_grpc
from bosdyn.client.data_chunk import chunk_message

from robot_sim.capture_store import ALERT, DATA, IMAGE, METADATA, CaptureStore, StoredItem
from robot_sim.headers import fill_header, responds
from robot_sim.services.base import SimServicer

CHUNK_BYTES = 1024 * 1024


class DataAcquisitionStoreServicer(
    SimServicer, data_acquisition_store_service_pb2_grpc.DataAcquisitionStoreServiceServicer
):
    """Backed by a shared ``CaptureStore``."""

    def __init__(self, state, store: CaptureStore) -> None:
        super().__init__(state)
        self.store = store

    def _ids(self, response, kind, query):
        response.data_ids.extend(i.data_id for i in self.store.select(kind, query))
        return response

    @responds(store_pb2.ListCaptureActionsResponse)
    def ListCaptureActions(self, request, context):
        return store_pb2.ListCaptureActionsResponse(action_ids=self.store.action_ids(request.query))

    @responds(store_pb2.ListStoredImagesResponse)
    def ListStoredImages(self, request, context):
        return self._ids(store_pb2.ListStoredImagesResponse(), IMAGE, request.query)

    @responds(store_pb2.ListStoredMetadataResponse)
    def ListStoredMetadata(self, request, context):
        return self._ids(store_pb2.ListStoredMetadataResponse(), METADATA, request.query)

    @responds(store_pb2.ListStoredDataResponse)
    def ListStoredData(self, request, context):
        return self._ids(store_pb2.ListStoredDataResponse(), DATA, request.query)

    @responds(store_pb2.ListStoredAlertDataResponse)
    def ListStoredAlertData(self, request, context):
        return self._ids(store_pb2.ListStoredAlertDataResponse(), ALERT, request.query)

    @responds(store_pb2.StoreImageResponse)
    def StoreImage(self, request, context):
        item = StoredItem(_copy_id(request.data_id), IMAGE, image=request.image)
        return store_pb2.StoreImageResponse(id=self.store.add(item))

    @responds(store_pb2.StoreMetadataResponse)
    def StoreMetadata(self, request, context):
        item = StoredItem(_copy_id(request.data_id), METADATA, metadata=request.metadata)
        return store_pb2.StoreMetadataResponse(id=self.store.add(item))

    @responds(store_pb2.StoreAlertDataResponse)
    def StoreAlertData(self, request, context):
        item = StoredItem(_copy_id(request.data_id), ALERT, alert=request.alert_data)
        return store_pb2.StoreAlertDataResponse(id=self.store.add(item))

    @responds(store_pb2.StoreDataResponse)
    def StoreData(self, request, context):
        item = StoredItem(_copy_id(request.data_id), DATA, data=request.data,
                          file_extension=request.file_extension)
        return store_pb2.StoreDataResponse(id=self.store.add(item))

    def StoreDataStream(self, request_iterator, context):
        received = self.clock.now_timestamp()
        first = None
        parts = []
        for request in request_iterator:
            first = first or request
            parts.append(request.chunk.data)
        response = store_pb2.StoreStreamResponse()
        if first is not None:
            item = StoredItem(_copy_id(first.data_id), DATA, data=b"".join(parts),
                              file_extension=first.file_extension)
            response.id = self.store.add(item)
        fill_header(response.header, first.header if first else response.header.request_header,
                    received, self.clock)
        return response

    def QueryStoredCaptures(self, request, context):
        received = self.clock.now_timestamp()
        response = self.store.query(request.query)
        fill_header(response.header, request.header, received, self.clock)
        yield from chunk_message(response, CHUNK_BYTES)

    @responds(store_pb2.QueryMaxCaptureIdResponse)
    def QueryMaxCaptureId(self, request, context):
        return store_pb2.QueryMaxCaptureIdResponse(max_capture_id=self.store.max_capture_id())


def _copy_id(data_id: daq.DataIdentifier) -> daq.DataIdentifier:
    clone = daq.DataIdentifier()
    clone.CopyFrom(data_id)
    return clone
