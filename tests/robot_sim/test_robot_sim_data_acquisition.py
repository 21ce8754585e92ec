"""Data Acquisition and its store, driven by the SDK's DataAcquisition(Store)Client."""

from __future__ import annotations

import time

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient, UnknownCaptureTypeError
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from robot_sim_tiny_images import JPEG_BYTES, SOURCE_NAME

Status = daq.GetStatusResponse


@pytest.fixture
def robot(robot_sim, image_server):
    robot = robot_sim.sdk_robot()
    robot.ensure_client(DirectoryRegistrationClient.default_service_name).register(
        "tiny-images", "bosdyn.api.ImageService", "tiny-images", "127.0.0.1", image_server.port)
    robot.time_sync.wait_for_sync(timeout_sec=5)  # the client stamps captures in robot time
    yield robot
    robot.stop_time_sync()


def _captures(*sources, service="tiny-images"):
    return daq.AcquisitionRequestList(image_captures=[
        daq.ImageSourceCapture(image_service=service, image_source=s) for s in sources])


def _wait_done(client, request_id, timeout=10):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        response = client.get_status(request_id)
        seen.append(response.status)
        if response.status not in (Status.STATUS_ACQUIRING, Status.STATUS_SAVING,
                                   Status.STATUS_CANCEL_IN_PROGRESS):
            return response, seen
        time.sleep(0.02)
    raise AssertionError(f"acquisition {request_id} still running: {seen[-1]}")


def test_image_service_appears_as_capability(robot):
    info = robot.ensure_client(DataAcquisitionClient.default_service_name).get_service_info()
    (capability,) = info.image_sources
    assert capability.service_name == "tiny-images"
    assert list(capability.image_source_names) == [SOURCE_NAME]


def test_acquire_stores_the_image(robot, robot_sim, image_server):
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    request_id = client.acquire_data(_captures(SOURCE_NAME), "inspect", "route-1",
                                     metadata={"operator": "test"})
    response, _ = _wait_done(client, request_id)
    assert response.status == Status.STATUS_COMPLETE
    assert [d.channel for d in response.data_saved] == [SOURCE_NAME]
    assert image_server.servicer.get_image_calls == 1

    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    query = store_pb2.DataQueryParams()
    (action,) = store.list_capture_actions(query)
    assert (action.action_name, action.group_name) == ("inspect", "route-1")
    robot_now = robot_sim.clock.now_nsec()
    assert abs(action.timestamp.ToNanoseconds() - robot_now) < 2e9  # converted to robot time
    (image_id,) = store.list_stored_images(query)
    assert image_id.channel == SOURCE_NAME
    assert len(store.list_stored_metadata(query)) == 1
    results = store.query_stored_captures(store_pb2.QueryParameters(include_images=True))
    assert [r.image.image.data for r in results.results] == [JPEG_BYTES]


def test_unknown_source_is_a_data_error(robot):
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    request_id = client.acquire_data(_captures("no-such-camera"), "inspect", "route-1")
    response, _ = _wait_done(client, request_id)
    assert response.status == Status.STATUS_DATA_ERROR
    assert "STATUS_UNKNOWN_CAMERA" in response.data_errors[0].error_message


def test_unregistered_service_is_unknown_capture_type(robot):
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    with pytest.raises(UnknownCaptureTypeError):
        client.acquire_data(_captures(SOURCE_NAME, service="nobody"), "inspect", "route-1")


def test_status_shows_progress_and_cancel_works(robot, image_server):
    image_server.servicer.delay_seconds = 0.3
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    request_id = client.acquire_data(_captures(SOURCE_NAME, SOURCE_NAME), "inspect", "route-1")
    response, seen = _wait_done(client, request_id)
    assert seen[0] == Status.STATUS_ACQUIRING
    assert response.status == Status.STATUS_COMPLETE
    assert len(response.data_saved) == 2

    request_id = client.acquire_data(_captures(SOURCE_NAME, SOURCE_NAME), "inspect", "route-2")
    client.cancel_acquisition(request_id)
    response, _ = _wait_done(client, request_id)
    assert response.status == Status.STATUS_ACQUISITION_CANCELLED
    assert len(response.data_saved) < 2
