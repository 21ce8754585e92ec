"""Everything that talks to the robot: payload credentials and authentication, directory
registration keep-alive, service faults and time sync, driven by one ``RobotLink`` thread so
that the service keeps serving while the robot is away."""

from __future__ import annotations
