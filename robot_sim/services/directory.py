"""DirectoryService: lists the robot's own services and the registered ones."""

from __future__ import annotations

from bosdyn.api import directory_pb2, directory_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer


class DirectoryServicer(SimServicer, directory_service_pb2_grpc.DirectoryServiceServicer):
    """Read access to the directory."""

    @responds(directory_pb2.ListServiceEntriesResponse)
    def ListServiceEntries(self, request, context):
        return directory_pb2.ListServiceEntriesResponse(
            service_entries=self.state.directory_entries())

    @responds(directory_pb2.GetServiceEntryResponse)
    def GetServiceEntry(self, request, context):
        Response = directory_pb2.GetServiceEntryResponse
        entry = self.state.directory_entry(request.service_name)
        if entry is None:
            return Response(status=Response.STATUS_NONEXISTENT_SERVICE)
        return Response(status=Response.STATUS_OK, service_entry=entry)
