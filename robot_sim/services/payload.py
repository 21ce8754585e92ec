"""PayloadService: the robot's payload list, with each payload's mount pose."""

from __future__ import annotations

from bosdyn.api import payload_pb2, payload_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer


class PayloadServicer(SimServicer, payload_service_pb2_grpc.PayloadServiceServicer):
    """Answers ListPayloads from the shared state (user or payload token required)."""

    @responds(payload_pb2.ListPayloadsResponse)
    def ListPayloads(self, request, context):
        return payload_pb2.ListPayloadsResponse(payloads=self.state.payload_list())
