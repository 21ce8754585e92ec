"""FaultService: services trigger and clear their service faults."""

from __future__ import annotations

from bosdyn.api import fault_service_pb2_grpc
from bosdyn.api import service_fault_pb2 as sf

from robot_sim.headers import CODE_INVALID_REQUEST, HeaderError, responds
from robot_sim.services.base import SimServicer


class FaultServicer(SimServicer, fault_service_pb2_grpc.FaultServiceServicer):
    """Active faults live in ``RobotState``; RobotState service shows them."""

    @responds(sf.TriggerServiceFaultResponse)
    def TriggerServiceFault(self, request, context):
        Response = sf.TriggerServiceFaultResponse
        fault = request.fault
        if not fault.fault_id.fault_name or not fault.fault_id.service_name:
            raise HeaderError(CODE_INVALID_REQUEST, "fault_id needs fault_name and service_name")
        if self.state.trigger_fault(fault):
            return Response(status=Response.STATUS_OK)
        return Response(status=Response.STATUS_FAULT_ALREADY_ACTIVE)

    @responds(sf.ClearServiceFaultResponse)
    def ClearServiceFault(self, request, context):
        Response = sf.ClearServiceFaultResponse
        if self.state.clear_faults(request.fault_id, request.clear_all_service_faults,
                                   request.clear_all_payload_faults):
            return Response(status=Response.STATUS_OK)
        return Response(status=Response.STATUS_FAULT_NOT_ACTIVE)
