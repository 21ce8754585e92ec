"""RobotIdService: serial number, nickname and software version of the simulated robot."""

from __future__ import annotations

from bosdyn.api import robot_id_pb2, robot_id_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer

SOFTWARE_VERSION = (5, 1, 0)


class RobotIdServicer(SimServicer, robot_id_service_pb2_grpc.RobotIdServiceServicer):
    """Answers GetRobotId (no token needed, as on the robot)."""

    @responds(robot_id_pb2.RobotIdResponse)
    def GetRobotId(self, request, context):
        response = robot_id_pb2.RobotIdResponse()
        robot_id = response.robot_id
        robot_id.serial_number = self.state.serial_number
        robot_id.species = "spot"
        robot_id.version = "V3"
        robot_id.nickname = self.state.nickname
        robot_id.computer_serial_number = "sim-computer-0001"
        release = robot_id.software_release
        major, minor, patch = SOFTWARE_VERSION
        release.version.major_version = major
        release.version.minor_version = minor
        release.version.patch_level = patch
        release.name = "robot_sim"
        release.api_version = f"{major}.{minor}.{patch}"
        return response
