"""ViewerConnection against the robot simulator: logins (user, payload), refusals with one-line
secret-free reasons, robot unreachable, and an image service that does not answer."""

from __future__ import annotations

import pytest
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from camera_service.robot.credentials import CredentialsError
from camera_service.robot.login import PasswordLogin, PayloadLogin, read_payload_login
from camera_service.robot.sdk_robot import RobotTarget
from service_test_helpers import assert_fast_reconnect

from devtools.demo import free_port
from robot_sim import RobotSimulator
from viewer.robot_link import (
    LoginRefused,
    RobotUnreachable,
    ServiceUnreachable,
    UnknownService,
    ViewerConnection,
)


@pytest.fixture
def sim(tmp_path):
    with RobotSimulator(state_dir=tmp_path / "robot") as simulator:
        yield simulator


def link_to(sim: RobotSimulator, login, **kwargs) -> ViewerConnection:
    return ViewerConnection(RobotTarget(sim.address, sim.port, str(sim.ca_cert)), login, **kwargs)


def test_user_login_lists_no_image_service_on_a_bare_robot(sim):
    link = link_to(sim, PasswordLogin(sim.username, sim.password))
    try:
        assert link.connect()
        assert link.list_sources() == []
        assert link.status()["connected"] is True
    finally:
        link.close()


def test_wrong_password_is_refused_without_showing_it(sim):
    link = link_to(sim, PasswordLogin(sim.username, "not-the-password"))
    assert not link.connect()
    status = link.status()
    assert status["error"] == "login_refused"
    assert status["message"] == (
        f"login to robot at {sim.address}:{sim.port} as user {sim.username!r} refused: "
        "the robot rejected the username or password")
    assert "not-the-password" not in repr(link.login)
    # No new attempt right away (a robot locks a user out after repeated failures): the
    # same error comes back.
    with pytest.raises(LoginRefused) as again:
        link.list_sources()
    with pytest.raises(LoginRefused) as once_more:
        link.get_jpeg("camera-image-service", "front", 75, 1.0)
    assert once_more.value is again.value
    assert again.value.message == status["message"]


def test_payload_login_from_the_credentials_file(sim):
    link = link_to(sim, read_payload_login(sim.payload_credentials_file))
    try:
        assert link.connect()
        assert link.status()["login"] == f"payload {sim.payload_guid}"
    finally:
        link.close()


def test_unauthorized_and_unknown_payloads_get_clear_reasons(sim, tmp_path):
    sim.set_payload_authorized(sim.payload_guid, False)
    link = link_to(sim, read_payload_login(sim.payload_credentials_file))
    assert not link.connect()
    assert link.status()["message"].endswith(
        "the payload is not authorized on the robot; authorize it in the admin console")

    secret = "0123456789abcdef0123456789abcdef"
    unknown = link_to(sim, PayloadLogin("11111111-2222-3333-4444-555555555555", secret))
    assert not unknown.connect()
    message = unknown.status()["message"]
    assert message.endswith("the robot rejected the payload GUID or secret; check the payload "
                            "credentials file")
    assert secret not in message and secret not in repr(unknown.login)


def test_missing_credentials_file_is_one_line(tmp_path):
    with pytest.raises(CredentialsError) as caught:
        read_payload_login(tmp_path / "nope")
    assert "\n" not in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_robot_unreachable_fails_fast_and_says_where():
    port = free_port()
    link = ViewerConnection(RobotTarget("127.0.0.1", port), PasswordLogin("user", "pw"),
                     retry_interval=60)
    with pytest.raises(RobotUnreachable) as first:
        link.list_sources()
    assert first.value.message.startswith(f"robot unreachable at 127.0.0.1:{port}: ")
    # Within the retry interval the same error comes back without a new login attempt.
    with pytest.raises(RobotUnreachable) as second:
        link.get_jpeg("camera-image-service", "front", 75, 1.0)
    assert second.value is first.value


def test_unknown_and_silent_image_services(sim):
    link = link_to(sim, PasswordLogin(sim.username, sim.password))
    try:
        with pytest.raises(UnknownService):
            link.get_jpeg("no-such-service", "front", 75, 1.0)
        # Registered, but nothing listens where it says it is: the robot answers, the
        # service does not.
        robot = sim.sdk_robot()
        registration = robot.ensure_client(DirectoryRegistrationClient.default_service_name)
        registration.register("silent-camera", "bosdyn.api.ImageService", "silent-camera",
                              "127.0.0.1", free_port())
        listed = link.list_sources()
        assert [service.name for service in listed] == ["silent-camera"]
        assert listed[0].error.startswith("not answering: ")
        with pytest.raises(ServiceUnreachable) as caught:
            link.get_jpeg("silent-camera", "front", 75, 1.0)
        assert caught.value.message.startswith("image service not answering through the robot")
        assert link.status()["connected"] is True
    finally:
        link.close()


def test_the_viewer_robot_reconnects_within_a_second(sim, created_channels):
    """The viewer makes its robot with the service's factory (it once lacked the
    fast-reconnect channel options and stayed blind for minutes after a robot reboot)."""
    link = link_to(sim, PasswordLogin(sim.username, sim.password))
    try:
        assert link.connect()
        assert_fast_reconnect(created_channels)
    finally:
        link.close()
