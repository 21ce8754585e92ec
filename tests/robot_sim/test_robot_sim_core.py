"""The simulator against real bosdyn-client code: auth, directory, keep-alive, time sync,
faults, routing and robot life events."""

from __future__ import annotations

import threading
import time

import pytest
from bosdyn.api import service_fault_pb2
from bosdyn.client import util as sdk_util
from bosdyn.client.auth import InvalidLoginError
from bosdyn.client.directory import DirectoryClient, NonexistentServiceError
from bosdyn.client.directory_registration import (
    DirectoryRegistrationClient,
    DirectoryRegistrationKeepAlive,
    ServiceAlreadyExistsError,
    ServiceDoesNotExistError,
)
from bosdyn.client.exceptions import (
    RpcError,
    ServiceUnavailableError,
    UnauthenticatedError,
)
from bosdyn.client.fault import FaultClient, ServiceFaultAlreadyExistsError
from bosdyn.client.image import ImageClient, build_image_request
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)
from bosdyn.client.robot_state import RobotStateClient
from bosdyn.client.time_sync import TimeSyncClient, TimeSyncThread
from robot_sim_tiny_images import JPEG_BYTES, SOURCE_NAME, ImageServer

from robot_sim.state import LIVENESS_FAULT_NAME

IMAGE_TYPE = "bosdyn.api.ImageService"


def _payload_robot(sim, name="payload-client"):
    robot = sim.sdk_robot(name, authenticate=False)
    guid, secret = sdk_util.read_payload_credentials(str(sim.payload_credentials_file))
    robot.authenticate_from_payload_credentials(guid, secret)
    return robot


def _once_reachable(call, timeout=10.0):
    """``call()`` retried while the robot is unreachable (gRPC backs off after a drop)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except UnauthenticatedError:
            raise
        except RpcError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _register_image_service(robot, port, name="tiny-images", authority="tiny-images", **kw):
    client = robot.ensure_client(DirectoryRegistrationClient.default_service_name)
    client.register(name, IMAGE_TYPE, authority, "127.0.0.1", port, **kw)
    return client


def test_password_login_and_refusal(robot_sim):
    robot = robot_sim.sdk_robot(authenticate=False)
    with pytest.raises(InvalidLoginError):
        robot.authenticate(robot_sim.username, robot_sim.password + "-wrong")
    with pytest.raises(InvalidLoginError):
        robot.authenticate("nobody", robot_sim.password)
    robot.authenticate(robot_sim.username, robot_sim.password)
    assert robot.user_token.count(".") == 2  # a JWT
    assert robot.get_id().serial_number == robot_sim.state.serial_number


def test_payload_credentials_login_and_refusals(robot_sim):
    robot = _payload_robot(robot_sim)
    names = [e.name for e in robot.ensure_client(DirectoryClient.default_service_name).list()]
    assert "directory-registration" in names

    client = robot.ensure_client(PayloadRegistrationClient.default_service_name)
    with pytest.raises(InvalidPayloadCredentialsError):
        client.get_payload_auth_token(robot_sim.payload_guid, "not-the-secret")
    robot_sim.add_payload("11111111-2222-3333-4444-555555555555", "s3cret", authorized=False)
    with pytest.raises(PayloadNotAuthorizedError):
        client.get_payload_auth_token("11111111-2222-3333-4444-555555555555", "s3cret")
    robot_sim.set_payload_authorized("11111111-2222-3333-4444-555555555555", True)
    assert client.get_payload_auth_token("11111111-2222-3333-4444-555555555555", "s3cret")


def test_calls_without_valid_token_are_unauthenticated(robot_sim):
    robot = robot_sim.sdk_robot(authenticate=False)
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    with pytest.raises(UnauthenticatedError):
        directory.list()
    robot.update_user_token("not.a.token")
    with pytest.raises(UnauthenticatedError):
        directory.list()


def test_register_update_unregister(robot_sim, image_server):
    robot = _payload_robot(robot_sim)
    client = _register_image_service(robot, image_server.port)
    entry = robot_sim.wait_for_service("tiny-images", timeout=1)
    assert entry.authority == "tiny-images.spot.robot"
    assert entry.host_payload_guid == robot_sim.payload_guid
    with pytest.raises(ServiceAlreadyExistsError):
        client.register("tiny-images", IMAGE_TYPE, "tiny-images", "127.0.0.1", image_server.port)
    client.update("tiny-images", IMAGE_TYPE, "tiny-images", "127.0.0.1", image_server.port + 1)
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    assert directory.get_entry("tiny-images").authority == "tiny-images.spot.robot"
    client.unregister("tiny-images")
    with pytest.raises(NonexistentServiceError):
        directory.get_entry("tiny-images")
    with pytest.raises(ServiceDoesNotExistError):
        client.unregister("tiny-images")


def _routed_images(robot_sim, image_server):
    """(payload robot, user robot, ImageClient) with the tiny image service registered."""
    payload = _payload_robot(robot_sim)
    _register_image_service(payload, image_server.port)
    robot = robot_sim.sdk_robot()
    robot.sync_with_directory()
    return payload, robot, robot.ensure_client("tiny-images")


def test_routing_to_registered_service(robot_sim, image_server):
    _, robot, images = _routed_images(robot_sim, image_server)
    assert isinstance(images, ImageClient)
    assert [s.name for s in images.list_image_sources()] == [SOURCE_NAME]
    response = images.get_image([build_image_request(SOURCE_NAME)])[0]
    assert response.shot.image.data == JPEG_BYTES
    assert image_server.servicer.last_metadata["authorization"] == "Bearer " + robot.user_token

    robot.update_user_token("forged")
    with pytest.raises(UnauthenticatedError):
        images.list_image_sources()
    assert image_server.servicer.get_image_calls == 1


def test_unregistered_authority_is_unavailable(robot_sim, image_server):
    payload, _, images = _routed_images(robot_sim, image_server)
    payload.ensure_client(DirectoryRegistrationClient.default_service_name).unregister(
        "tiny-images")
    with pytest.raises(ServiceUnavailableError):
        images.list_image_sources()


def test_routing_to_dead_endpoint_is_unavailable(robot_sim, image_server):
    _, _, images = _routed_images(robot_sim, image_server)
    image_server.server.stop(None)
    with pytest.raises(ServiceUnavailableError):
        images.list_image_sources(timeout=5)


def test_keep_alive_reregisters_after_reboot(robot_sim, image_server):
    payload = _payload_robot(robot_sim)
    client = payload.ensure_client(DirectoryRegistrationClient.default_service_name)
    keep_alive = DirectoryRegistrationKeepAlive(client, rpc_interval_seconds=0.2,
                                                rpc_timeout_seconds=2)
    keep_alive.start("tiny-images", IMAGE_TYPE, "tiny-images", "127.0.0.1", image_server.port)
    try:
        robot_sim.wait_for_service("tiny-images", timeout=1)
        robot_sim.reboot(down_seconds=0.5)
        assert "tiny-images" not in [e.name for e in robot_sim.directory_entries()]
        robot_sim.wait_for_service("tiny-images", timeout=15)
        robot = robot_sim.sdk_robot()
        robot.sync_with_directory()
        assert robot.ensure_client("tiny-images").list_image_sources()
        assert keep_alive.is_alive()
    finally:
        keep_alive.shutdown()


def test_reboot_with_new_key_invalidates_tokens(robot_sim):
    robot = robot_sim.sdk_robot()
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    assert directory.list()
    robot_sim.reboot(down_seconds=0.2, invalidate_tokens=True)
    robot_sim.wait_until_serving(5)
    with pytest.raises(UnauthenticatedError):
        _once_reachable(lambda: directory.list(timeout=2))
    robot.authenticate(robot_sim.username, robot_sim.password)
    assert directory.list(timeout=5)


@pytest.mark.parametrize("event", ["reboot", "refuse_connections"])
def test_down_then_serving_again_with_same_token(robot_sim, event):
    robot = robot_sim.sdk_robot()
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    getattr(robot_sim, event)(0.3)
    with pytest.raises(RpcError):
        directory.list(timeout=1)
    robot_sim.wait_until_serving(5)
    assert _once_reachable(lambda: directory.list(timeout=2))


def test_latency_is_added(robot_sim):
    robot = robot_sim.sdk_robot()
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    directory.list()
    robot_sim.set_latency(0.3)
    start = time.monotonic()
    directory.list()
    assert time.monotonic() - start >= 0.3
    robot_sim.set_latency(0)


def test_latency_of_one_service_leaves_the_others_alone(robot_sim):
    robot = robot_sim.sdk_robot()
    directory = robot.ensure_client(DirectoryClient.default_service_name)
    time_sync = robot.ensure_client(TimeSyncClient.default_service_name)
    robot_sim.set_latency(30, service="bosdyn.api.TimeSyncService")
    try:
        directory.list(timeout=5)  # answered at once, while time sync is stalled
        start = time.monotonic()
        with pytest.raises(RpcError):  # the client's deadline ends the stalled call
            time_sync.get_time_sync_update(None, "", timeout=0.5)
        assert time.monotonic() - start < 25
    finally:
        robot_sim.set_latency(0, service="bosdyn.api.TimeSyncService")
    assert time_sync.get_time_sync_update(None, "", timeout=5).clock_identifier


def test_time_sync_estimates_the_robot_clock(robot_sim):
    robot = robot_sim.sdk_robot()
    thread = TimeSyncThread(robot.ensure_client(TimeSyncClient.default_service_name))
    thread.start()
    try:
        thread.wait_for_sync(timeout_sec=5)
        assert thread.has_established_time_sync
        skew_nsec = thread.endpoint.clock_skew.ToNanoseconds()
        assert abs(skew_nsec - robot_sim.clock.skew_nsec) < 50_000_000
        robot_now = thread.robot_timestamp_from_local_secs(time.time()).ToNanoseconds()
        assert abs(robot_now - robot_sim.clock.now_nsec()) < 50_000_000
    finally:
        thread.stop()


def _fault(name, service="tiny-images"):
    fault = service_fault_pb2.ServiceFault(
        error_message="camera unplugged", severity=service_fault_pb2.ServiceFault.SEVERITY_WARN)
    fault.fault_id.fault_name = name
    fault.fault_id.service_name = service
    return fault


def test_faults_trigger_show_in_robot_state_and_clear(robot_sim):
    robot = _payload_robot(robot_sim)
    faults = robot.ensure_client(FaultClient.default_service_name)
    faults.trigger_service_fault(_fault("camera-lost"))
    with pytest.raises(ServiceFaultAlreadyExistsError):
        faults.trigger_service_fault(_fault("camera-lost"))
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    assert [f.fault_id.fault_name for f in state.service_fault_state.faults] == ["camera-lost"]
    assert [f.fault_id.fault_name for f in robot_sim.active_faults()] == ["camera-lost"]
    faults.clear_service_fault(_fault("camera-lost").fault_id)
    assert robot_sim.active_faults() == []


def test_liveness_fault_when_keep_alive_stops(robot_sim, image_server):
    robot = _payload_robot(robot_sim)
    client = _register_image_service(robot, image_server.port, liveness_timeout_secs=0.5)
    deadline = time.monotonic() + 5
    while not robot_sim.active_faults() and time.monotonic() < deadline:
        time.sleep(0.05)
    (fault,) = robot_sim.active_faults()
    assert (fault.fault_id.fault_name, fault.fault_id.service_name) == (
        LIVENESS_FAULT_NAME, "tiny-images")
    with pytest.raises(ServiceAlreadyExistsError):  # the keep-alive's heartbeat
        client.register("tiny-images", IMAGE_TYPE, "tiny-images", "127.0.0.1", image_server.port,
                        liveness_timeout_secs=0.5)
    assert robot_sim.active_faults() == []


def test_routing_recovers_quickly_when_the_service_restarts(robot_sim, image_server):
    _, _, images = _routed_images(robot_sim, image_server)
    assert images.list_image_sources()
    image_server.server.stop(None)
    for _ in range(3):  # let the proxy's channel fail and back off a few times
        with pytest.raises(ServiceUnavailableError):
            images.list_image_sources(timeout=2)
        time.sleep(0.3)
    restarted = ImageServer(port=image_server.port)
    try:
        start = time.monotonic()
        while True:
            try:
                assert images.list_image_sources(timeout=2)
                break
            except ServiceUnavailableError:
                assert time.monotonic() - start < 3, "routing did not recover within 3 s"
                time.sleep(0.1)
    finally:
        restarted.server.stop(None)


def test_payload_login_waits_until_an_admin_authorizes(robot_sim):
    guid, secret = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "later"
    robot_sim.add_payload(guid, secret, authorized=False)
    robot = robot_sim.sdk_robot("waiting-payload", authenticate=False)
    login = threading.Thread(target=robot.authenticate_from_payload_credentials,
                             args=(guid, secret), kwargs={"retry_interval": 0.1}, daemon=True)
    login.start()
    login.join(0.5)
    assert login.is_alive() and robot.user_token is None
    robot_sim.set_payload_authorized(guid, True)
    login.join(5)
    assert not login.is_alive() and robot.user_token
