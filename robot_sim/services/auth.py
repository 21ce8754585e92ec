"""AuthService: user name/password or an existing token -> a user token."""

from __future__ import annotations

import logging

from bosdyn.api import auth_pb2, auth_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer

LOG = logging.getLogger("robot_sim")
Response = auth_pb2.GetAuthTokenResponse


class AuthServicer(SimServicer, auth_service_pb2_grpc.AuthServiceServicer):
    """Grants tokens for valid logins and refreshes valid tokens; refuses the rest."""

    @responds(Response)
    def GetAuthToken(self, request, context):
        if request.token:
            claims = self.state.tokens.verify(request.token)
            if claims is None:
                LOG.info("auth refused: invalid or expired token")
                return Response(status=Response.STATUS_INVALID_TOKEN)
            LOG.info("auth ok: token refreshed for %s %s", claims.kind, claims.subject)
            return Response(status=Response.STATUS_OK,
                            token=self.state.tokens.issue(claims.subject, claims.kind))
        if not self.state.check_login(request.username, request.password):
            LOG.info("auth refused: invalid login for user %r", request.username)
            return Response(status=Response.STATUS_INVALID_LOGIN)
        LOG.info("auth ok: user %s", request.username)
        return Response(status=Response.STATUS_OK,
                        token=self.state.tokens.issue(request.username, "user"))
