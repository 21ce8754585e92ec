"""The one SDK-robot factory: fast-reconnecting channels, TLS port, quiet SDK logger, for the
service's session, the viewer and the simulator handle alike."""

from __future__ import annotations

import logging

from bosdyn.client.directory_registration import DirectoryRegistrationClient
from bosdyn.client.fault import FaultClient
from bosdyn.client.payload import PayloadClient
from bosdyn.client.time_sync import TimeSyncClient
from camera_service.robot.login import read_payload_login
from camera_service.robot.sdk_robot import RobotTarget, make_sdk_robot
from camera_service.robot.session import RobotSession
from service_test_helpers import assert_fast_reconnect


def _target(sim) -> RobotTarget:
    return RobotTarget(sim.address, sim.port, str(sim.ca_cert))


def test_every_robot_channel_reconnects_within_a_second(robot_sim, created_channels):
    """gRPC's default reconnect backoff grows to minutes: after a long outage the service would
    see the robot back only long after it is (the e2e reboot scenario caught this)."""
    session = RobotSession(_target(robot_sim), lambda: read_payload_login(
        str(robot_sim.payload_credentials_file)))
    session.authenticate()
    for client_class in (DirectoryRegistrationClient, TimeSyncClient, FaultClient,
                         PayloadClient):
        session.client(client_class)
    created = {a for a, _ in created_channels}
    assert {"payload-registration.spot.robot", "payload.spot.robot"} <= created
    assert_fast_reconnect(created_channels)


def test_the_factory_sets_port_and_keeps_the_sdk_logger_quiet(robot_sim, created_channels):
    robot = make_sdk_robot(_target(robot_sim), "factory-test")
    assert robot.logger.level == logging.INFO
    robot.authenticate(robot_sim.username, robot_sim.password)
    assert robot.ensure_client("directory").list()  # reached the simulator's TLS port
    assert_fast_reconnect(created_channels)


def test_the_simulator_handle_makes_its_robot_with_the_factory(robot_sim, created_channels):
    robot = robot_sim.sdk_robot("handle-test")
    assert robot.ensure_client("directory").list()
    assert_fast_reconnect(created_channels)
