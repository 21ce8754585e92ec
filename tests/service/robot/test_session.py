"""RobotSession: the channels it opens to the robot, and payload login through robot_sim."""

from __future__ import annotations

import bosdyn.client.channel
import pytest
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from bosdyn.client.fault import FaultClient
from bosdyn.client.time_sync import TimeSyncClient
from camera_service.robot.credentials import read_credentials_file
from camera_service.robot.session import AuthFailure, RobotSession, RobotTarget


@pytest.fixture
def created_channels(monkeypatch):
    """(authority, options) of every secure channel the SDK creates during the test."""
    created = []
    original = bosdyn.client.channel.create_secure_channel

    def spy(address, port, creds, authority, options=()):
        created.append((authority, dict(options)))
        return original(address, port, creds, authority, options)

    monkeypatch.setattr(bosdyn.client.channel, "create_secure_channel", spy)
    return created


def _session(sim) -> RobotSession:
    target = RobotTarget(sim.address, sim.port, str(sim.ca_cert))
    return RobotSession(target, credentials=lambda: read_credentials_file(
        str(sim.payload_credentials_file)))


def test_every_robot_channel_reconnects_within_a_second(robot_sim, created_channels):
    """gRPC's default reconnect backoff grows to minutes: after a long outage the service would
    see the robot back only long after it is (the e2e reboot scenario caught this)."""
    session = _session(robot_sim)
    session.authenticate()
    for client_class in (DirectoryRegistrationClient, TimeSyncClient, FaultClient):
        session.client(client_class)
    assert {authority for authority, _ in created_channels} >= {
        "api.spot.robot", "payload-registration.spot.robot"}
    for authority, options in created_channels:
        assert options.get("grpc.max_reconnect_backoff_ms", 120_000) <= 1000, authority


def test_unauthorized_payload_is_one_clear_line(robot_sim, tmp_path):
    guid, secret = "0b1c2d3e-0000-4000-8000-00000000abcd", "s3cret-value"
    robot_sim.add_payload(guid, secret, authorized=False)
    creds = tmp_path / "creds"
    creds.write_text(f"{guid}\n{secret}\n")
    target = RobotTarget(robot_sim.address, robot_sim.port, str(robot_sim.ca_cert))
    session = RobotSession(target, credentials=lambda: read_credentials_file(str(creds)))
    with pytest.raises(AuthFailure) as caught:
        session.authenticate()
    message = str(caught.value)
    assert message == (f"payload {guid} is not authorized yet: authorize it in the robot's "
                       "admin console (Payloads page)")
    assert secret not in message
