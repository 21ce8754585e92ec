"""One module per robot service the simulator serves; ``collect_handlers`` builds them all."""

from __future__ import annotations

from typing import Callable, List, Tuple

from bosdyn.api import (
    auth_service_pb2_grpc,
    data_buffer_service_pb2_grpc,
    directory_registration_service_pb2_grpc,
    directory_service_pb2_grpc,
    fault_service_pb2_grpc,
    payload_registration_service_pb2_grpc,
    payload_service_pb2_grpc,
    robot_id_service_pb2_grpc,
    robot_state_service_pb2_grpc,
    time_sync_service_pb2_grpc,
)

from robot_sim.dispatch import HandlerCollector
from robot_sim.services.auth import AuthServicer
from robot_sim.services.data_buffer import DataBufferServicer
from robot_sim.services.directory import DirectoryServicer
from robot_sim.services.directory_registration import DirectoryRegistrationServicer
from robot_sim.services.fault import FaultServicer
from robot_sim.services.payload import PayloadServicer
from robot_sim.services.payload_registration import PayloadRegistrationServicer
from robot_sim.services.robot_id import RobotIdServicer
from robot_sim.services.robot_state import RobotStateServicer
from robot_sim.services.time_sync import TimeSyncServicer
from robot_sim.state import RobotState

_SERVICES: List[Tuple[type, Callable]] = [
    (AuthServicer, auth_service_pb2_grpc.add_AuthServiceServicer_to_server),
    (PayloadRegistrationServicer,
     payload_registration_service_pb2_grpc.add_PayloadRegistrationServiceServicer_to_server),
    (PayloadServicer, payload_service_pb2_grpc.add_PayloadServiceServicer_to_server),
    (RobotIdServicer, robot_id_service_pb2_grpc.add_RobotIdServiceServicer_to_server),
    (TimeSyncServicer, time_sync_service_pb2_grpc.add_TimeSyncServiceServicer_to_server),
    (DirectoryServicer, directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server),
    (DirectoryRegistrationServicer,
     directory_registration_service_pb2_grpc.add_DirectoryRegistrationServiceServicer_to_server),
    (FaultServicer, fault_service_pb2_grpc.add_FaultServiceServicer_to_server),
    (RobotStateServicer, robot_state_service_pb2_grpc.add_RobotStateServiceServicer_to_server),
    (DataBufferServicer, data_buffer_service_pb2_grpc.add_DataBufferServiceServicer_to_server),
]


def collect_handlers(state: RobotState, extra: List[Tuple[object, Callable]] = ()
                     ) -> HandlerCollector:
    """Instantiate every servicer on ``state`` (plus ``extra`` (servicer, add_fn) pairs)."""
    collector = HandlerCollector()
    for servicer_type, add in _SERVICES:
        add(servicer_type(state), collector)
    for servicer, add in extra:
        add(servicer, collector)
    return collector
