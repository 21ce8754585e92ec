"""DataBufferService: accepts what services log to the robot's data buffer, keeps a count.

The SDK's ``DataAcquisitionPluginService`` logs every request and response it handles to the
data buffer (``RecordDataBlobs``); the robot accepts them. The simulator keeps no content, only
how many records of each kind arrived (``counts``), which is all a test may want to see.
"""

from __future__ import annotations

import threading
from collections import Counter

from bosdyn.api import data_buffer_pb2 as buffer_pb2
from bosdyn.api import data_buffer_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer


class DataBufferServicer(SimServicer, data_buffer_service_pb2_grpc.DataBufferServiceServicer):
    """See the module docstring."""

    def __init__(self, state) -> None:
        super().__init__(state)
        self._lock = threading.Lock()
        self.counts: Counter = Counter()

    def _count(self, kind: str, number: int) -> None:
        with self._lock:
            self.counts[kind] += number

    @responds(buffer_pb2.RecordTextMessagesResponse)
    def RecordTextMessages(self, request, context):
        self._count("text_messages", len(request.text_messages))
        return buffer_pb2.RecordTextMessagesResponse()

    @responds(buffer_pb2.RecordOperatorCommentsResponse)
    def RecordOperatorComments(self, request, context):
        self._count("operator_comments", len(request.operator_comments))
        return buffer_pb2.RecordOperatorCommentsResponse()

    @responds(buffer_pb2.RecordDataBlobsResponse)
    def RecordDataBlobs(self, request, context):
        self._count("blobs", len(request.blob_data))
        return buffer_pb2.RecordDataBlobsResponse()

    @responds(buffer_pb2.RecordEventsResponse)
    def RecordEvents(self, request, context):
        self._count("events", len(request.events))
        return buffer_pb2.RecordEventsResponse()

    @responds(buffer_pb2.RegisterSignalSchemaResponse)
    def RegisterSignalSchema(self, request, context):
        self._count("signal_schemas", 1)
        return buffer_pb2.RegisterSignalSchemaResponse()

    @responds(buffer_pb2.RecordSignalTicksResponse)
    def RecordSignalTicks(self, request, context):
        self._count("signal_ticks", len(request.tick_data))
        return buffer_pb2.RecordSignalTicksResponse()
