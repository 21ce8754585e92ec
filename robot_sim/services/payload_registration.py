"""PayloadRegistrationService: payload GUID/secret -> a limited user token."""

from __future__ import annotations

import logging

from bosdyn.api import payload_registration_pb2 as pr
from bosdyn.api import payload_registration_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer

LOG = logging.getLogger("robot_sim")


def _credentials(request):
    """(guid, secret) from the current or the deprecated request fields."""
    if request.HasField("payload_credentials"):
        return request.payload_credentials.guid, request.payload_credentials.secret
    return request.payload_guid, request.payload_secret


class PayloadRegistrationServicer(
    SimServicer, payload_registration_service_pb2_grpc.PayloadRegistrationServiceServicer
):
    """Payload tokens only for known, authorized payloads - as the robot does."""

    @responds(pr.GetPayloadAuthTokenResponse)
    def GetPayloadAuthToken(self, request, context):
        Response = pr.GetPayloadAuthTokenResponse
        guid, secret = _credentials(request)
        payload = self.state.payload(guid, secret)
        if payload is None:
            LOG.info("payload auth refused: invalid credentials for GUID %r", guid)
            return Response(status=Response.STATUS_INVALID_CREDENTIALS)
        if not payload.authorized:
            LOG.info("payload auth refused: payload %s not authorized", guid)
            return Response(status=Response.STATUS_PAYLOAD_NOT_AUTHORIZED)
        LOG.info("auth ok: payload %s", guid)
        return Response(status=Response.STATUS_OK, token=self.state.tokens.issue(guid, "payload"))

    @responds(pr.RegisterPayloadResponse)
    def RegisterPayload(self, request, context):
        Response = pr.RegisterPayloadResponse
        if self.state.register_payload(request.payload.GUID, request.payload_secret):
            return Response(status=Response.STATUS_OK)
        return Response(status=Response.STATUS_ALREADY_EXISTS)

    @responds(pr.UpdatePayloadVersionResponse)
    def UpdatePayloadVersion(self, request, context):
        Response = pr.UpdatePayloadVersionResponse
        guid, secret = _credentials(request)
        if self.state.payload(guid, secret) is None:
            return Response(status=Response.STATUS_INVALID_CREDENTIALS)
        return Response(status=Response.STATUS_OK)

    @responds(pr.UpdatePayloadAttachedResponse)
    def UpdatePayloadAttached(self, request, context):
        Response = pr.UpdatePayloadAttachedResponse
        guid, secret = _credentials(request)
        payload = self.state.payload(guid, secret)
        if payload is None:
            return Response(status=Response.STATUS_INVALID_CREDENTIALS)
        if not payload.authorized:
            return Response(status=Response.STATUS_PAYLOAD_NOT_AUTHORIZED)
        return Response(status=Response.STATUS_OK)
