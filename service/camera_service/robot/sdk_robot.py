"""The one way this project makes an SDK ``Robot``: the service, the viewer and the tools
(robot simulator handle, benchmarks) all call ``make_sdk_robot``.

What it adds to ``create_standard_sdk(...).create_robot(...)``:
- the TLS port of the target (443 on a real robot, another one for the simulator);
- channels to the robot's own services that retry a lost connection at most a second apart
  (``FAST_RECONNECT_OPTIONS``): gRPC's default reconnect backoff grows to two minutes, so
  after a long robot outage (CORE I/O booted first, robot reboot) a channel would stay idle
  long after the robot is back;
- the SDK's own logger held at INFO: at debug level it logs every request and response as
  multi-line protos, payload secret, passwords and tokens included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import bosdyn.client

FAST_RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 1000),
)

# The robot's own authorities (the bootstrap services, directory, time sync, faults).
ROBOT_AUTHORITIES = ("api.spot.robot", "auth.spot.robot", "id.spot.robot",
                     "payload-registration.spot.robot",
                     "payload.spot.robot")  # the payload list (payload-relative mounts)


@dataclass(frozen=True)
class RobotTarget:
    """Where the robot is: hostname, TLS port (443 on a real robot) and CA certificate file
    (None = the Boston Dynamics CA shipped with the SDK)."""

    hostname: str
    port: int = 443
    ca_cert: str | None = None

    def __str__(self) -> str:
        return self.hostname if self.port == 443 else f"{self.hostname}:{self.port}"


def make_sdk_robot(target: RobotTarget, client_name: str) -> bosdyn.client.Robot:
    """An unauthenticated SDK ``Robot`` for ``target`` (see the module doc). Raises
    ``OSError`` when the CA certificate file cannot be read."""
    sdk = bosdyn.client.create_standard_sdk(client_name, cert_resource_glob=target.ca_cert)
    robot = sdk.create_robot(target.hostname)
    if target.port != 443:
        robot.update_secure_channel_port(target.port)
    for authority in ROBOT_AUTHORITIES:  # before the SDK makes them with default options
        robot.ensure_secure_channel(authority, options=list(FAST_RECONNECT_OPTIONS))
    robot.logger.setLevel(logging.INFO)
    return robot
