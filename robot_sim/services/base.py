"""Common ground of the simulator's servicers."""

from __future__ import annotations

import grpc

from robot_sim.state import RobotState
from robot_sim.tokens import TokenClaims, bearer_token


class SimServicer:
    """A servicer of the simulated robot: it sees the shared ``RobotState``."""

    def __init__(self, state: RobotState) -> None:
        self.state = state
        self.clock = state.clock

    def caller(self, context: grpc.ServicerContext) -> TokenClaims | None:
        """The claims of the caller's user token (already checked by the dispatcher)."""
        token = bearer_token(context.invocation_metadata())
        return self.state.tokens.verify(token) if token else None

    def caller_payload_guid(self, context: grpc.ServicerContext) -> str:
        """The GUID of the calling payload, or "" for a user (or anonymous) caller."""
        claims = self.caller(context)
        return claims.subject if claims is not None and claims.kind == "payload" else ""
