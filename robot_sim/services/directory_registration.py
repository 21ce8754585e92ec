"""DirectoryRegistrationService: services register, update and unregister themselves.

Each register/update call is a heartbeat for the liveness check (see ``RobotState``); a
register for a name already present answers STATUS_ALREADY_EXISTS, which the SDK keep-alive
expects while the entry persists, and STATUS_OK again after a reboot emptied the directory.
"""

from __future__ import annotations

from bosdyn.api import directory_registration_pb2 as dr
from bosdyn.api import directory_registration_service_pb2_grpc

from robot_sim.headers import CODE_INVALID_REQUEST, HeaderError, responds
from robot_sim.services.base import SimServicer


class DirectoryRegistrationServicer(
    SimServicer, directory_registration_service_pb2_grpc.DirectoryRegistrationServiceServicer
):
    """Write access to the directory."""

    @responds(dr.RegisterServiceResponse)
    def RegisterService(self, request, context):
        Response = dr.RegisterServiceResponse
        outcome = self.state.register(request.service_entry, request.endpoint.host_ip,
                                      request.endpoint.port, self.caller_payload_guid(context))
        if outcome == "invalid":
            raise HeaderError(CODE_INVALID_REQUEST,
                              "service entry needs name, type, a non-reserved authority, "
                              "host_ip and port")
        if outcome == "exists":
            return Response(status=Response.STATUS_ALREADY_EXISTS)
        return Response(status=Response.STATUS_OK)

    @responds(dr.UpdateServiceResponse)
    def UpdateService(self, request, context):
        Response = dr.UpdateServiceResponse
        if self.state.update(request.service_entry, request.endpoint.host_ip,
                             request.endpoint.port):
            return Response(status=Response.STATUS_OK)
        return Response(status=Response.STATUS_NONEXISTENT_SERVICE)

    @responds(dr.UnregisterServiceResponse)
    def UnregisterService(self, request, context):
        Response = dr.UnregisterServiceResponse
        if self.state.unregister(request.service_name):
            return Response(status=Response.STATUS_OK)
        return Response(status=Response.STATUS_NONEXISTENT_SERVICE)
