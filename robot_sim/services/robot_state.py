"""RobotStateService: power state and, above all, the active service faults."""

from __future__ import annotations

from bosdyn.api import robot_state_pb2, robot_state_service_pb2_grpc

from robot_sim.headers import responds
from robot_sim.services.base import SimServicer

Power = robot_state_pb2.PowerState


class RobotStateServicer(SimServicer, robot_state_service_pb2_grpc.RobotStateServiceServicer):
    """A standing, motor-off robot on battery whose service faults are the live ones."""

    @responds(robot_state_pb2.RobotStateResponse)
    def GetRobotState(self, request, context):
        response = robot_state_pb2.RobotStateResponse()
        state = response.robot_state
        now = self.clock.now_timestamp()
        state.power_state.timestamp.CopyFrom(now)
        state.power_state.motor_power_state = Power.MOTOR_POWER_STATE_OFF
        state.power_state.shore_power_state = Power.SHORE_POWER_STATE_OFF
        state.power_state.robot_power_state = Power.ROBOT_POWER_STATE_ON
        state.power_state.payload_ports_power_state = Power.PAYLOAD_PORTS_POWER_STATE_ON
        state.power_state.locomotion_charge_percentage.value = 87.0
        state.service_fault_state.faults.extend(self.state.active_faults())
        return response

    @responds(robot_state_pb2.RobotHardwareConfigurationResponse)
    def GetRobotHardwareConfiguration(self, request, context):
        return robot_state_pb2.RobotHardwareConfigurationResponse()
