"""A stand-in Spot robot for tests and demos: the bosdyn gRPC API over TLS on one port.

``RobotSimulator`` runs it in-process, ``RobotSimulatorProcess`` as a subprocess; both expose
the same attributes and life-event methods. See README "The robot simulator as a tool".
"""

from __future__ import annotations

from robot_sim.process import RobotSimulatorProcess
from robot_sim.simulator import RobotSimulator

__all__ = ["RobotSimulator", "RobotSimulatorProcess"]
