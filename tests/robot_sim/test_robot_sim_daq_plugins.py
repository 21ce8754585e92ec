"""Data Acquisition plugins through the simulator: a plugin built with the SDK's
DataAcquisitionPluginService, driven with the SDK's DataAcquisitionClient, its data downloaded
with the SDK's download helper."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient, UnknownCaptureTypeError
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from bosdyn.client.exceptions import InvalidRequestError
from robot_sim_tiny_plugin import BLOB, BROKEN_MESSAGE, FILED_BLOB, SERVICE_NAME, PluginServer

from devtools.polling import wait_for
from robot_sim.daq_helpers import acquire, data_captures, download_group, wait_done
from robot_sim.simulator import RobotSimulator

Status = daq.GetStatusResponse


@pytest.fixture
def robot(robot_sim):
    robot = robot_sim.sdk_robot()
    robot.time_sync.wait_for_sync(timeout_sec=5)
    yield robot
    robot.stop_time_sync()


@pytest.fixture
def plugin(robot):
    server = PluginServer(robot)
    yield server.plugin
    server.stop()


def _client(robot):
    return robot.ensure_client(DataAcquisitionClient.default_service_name)


def test_capabilities_of_the_plugin_are_listed_with_its_name(robot, plugin):
    info = _client(robot).get_service_info()
    assert [(s.name, s.service_name) for s in info.data_sources] == [
        ("tiny-blob", SERVICE_NAME), ("held-blob", SERVICE_NAME),
        ("broken-blob", SERVICE_NAME), ("live-blob", SERVICE_NAME),
        ("copied-blob", SERVICE_NAME), ("filed-blob", SERVICE_NAME)]
    assert info.data_sources[3].has_live_data


def test_acquire_as_autowalk_then_download_is_byte_identical(robot_sim, robot, plugin,
                                                             tmp_path):
    group = "2026-12-06T200000Z_Inspection"
    status = acquire(robot, data_captures("tiny-blob"), "Gauge 1", group,
                     metadata={"custom_metadata": ["boiler room"]})
    assert status.status == Status.STATUS_COMPLETE, status
    assert [d.channel for d in status.data_saved] == ["tiny-blob"]
    (request,) = plugin.requests  # what the robot forwarded to the plugin
    assert (request.action_id.action_name, request.action_id.group_name) == ("Gauge 1", group)
    assert [c.name for c in request.acquisition_requests.data_captures] == ["tiny-blob"]
    assert request.metadata.data["custom_metadata"][0] == "boiler room"

    files = download_group(robot_sim, robot, group, tmp_path / "download")
    assert files[f"{group}/Gauge 1 tiny-blob.bin"] == BLOB
    (action,) = json.loads(files[f"{group}/metadata.json"])["actions"]
    assert action["data"]["tiny-blob"][0]["filename"] == "Gauge 1 tiny-blob.bin"
    assert action["metadata"]["metadata"][0]["data"] == {"custom_metadata": ["boiler room"]}

    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    stored = store.query_stored_captures(store_pb2.QueryParameters(include_data=True))
    assert [r.data.data for r in stored.results] == [BLOB]


def test_file_stored_in_chunks_downloads_byte_identical(robot_sim, robot, plugin, tmp_path):
    status = acquire(robot, data_captures("filed-blob"), "Recording", "files")
    assert status.status == Status.STATUS_COMPLETE, status
    files = download_group(robot_sim, robot, "files", tmp_path / "download")
    assert files["files/Recording filed-blob.bin"] == FILED_BLOB


def test_cancel_mid_way_reaches_the_plugin(robot, plugin):
    client = _client(robot)
    request_id = client.acquire_data(data_captures("held-blob"), "held", "cancel-group")
    assert plugin.started.wait(10)
    assert client.get_status(request_id).status == Status.STATUS_ACQUIRING
    client.cancel_acquisition(request_id)
    assert wait_done(robot, request_id).status == Status.STATUS_ACQUISITION_CANCELLED
    assert plugin.cancelled.is_set()
    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    assert not store.list_stored_data(store_pb2.DataQueryParams())


def test_data_error_of_the_plugin_is_reported(robot, plugin):
    status = acquire(robot, data_captures("broken-blob"), "broken", "error-group")
    assert status.status == Status.STATUS_DATA_ERROR
    (error,) = status.data_errors
    assert (error.data_id.channel, error.error_message) == ("broken-blob", BROKEN_MESSAGE)
    assert not status.service_errors


def test_unknown_capability_is_refused(robot, plugin):
    with pytest.raises(UnknownCaptureTypeError):
        _client(robot).acquire_data(data_captures("no-such-blob"), "x", "y")


def test_custom_parameters_reach_the_plugin_and_bad_ones_are_refused(robot, plugin):
    status = acquire(robot, data_captures("copied-blob", copies=2), "copies", "params")
    assert status.status == Status.STATUS_COMPLETE
    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    stored = store.query_stored_captures(store_pb2.QueryParameters(include_data=True))
    assert [r.data.data for r in stored.results] == [BLOB * 2]
    with pytest.raises(InvalidRequestError) as refused:
        _client(robot).acquire_data(data_captures("copied-blob", copies=9), "x", "params")
    assert "tiny-plugin" in str(refused.value) and "copies" in str(refused.value)
    assert len(plugin.requests) == 1  # the refused request never started a collection


def test_live_data_is_asked_of_the_plugin(robot, plugin):
    response = _client(robot).get_live_data(
        daq.LiveDataRequest(data_captures=[daq.DataCapture(name="live-blob")]))
    assert [(d.name, d.status) for d in response.live_data] == [
        ("live-blob", daq.LiveDataResponse.CapabilityLiveData.STATUS_OK)]


def test_plugin_deadline_extends_the_time_out(tmp_path):
    with RobotSimulator(state_dir=tmp_path / "sim", daq_timeout_seconds=0.5) as sim:
        robot = sim.sdk_robot()
        server = PluginServer(robot, hold_cancel_checks=True)
        try:
            client = _client(robot)
            # held-blob: the plugin pushes the deadline an hour ahead; the "cancel ..." action
            # holds without doing so and must time out (after the extended one started)
            extended = client.acquire_data(data_captures("held-blob"), "held", "deadline")
            plain = client.acquire_data(data_captures("tiny-blob"), "cancel: held", "deadline")
            assert wait_done(robot, plain).status == Status.STATUS_TIMEDOUT
            wait_for(server.plugin.cancelled.is_set, what="the plugin told of the time-out")
            assert client.get_status(extended).status == Status.STATUS_ACQUIRING
            server.plugin.release.set()
            assert wait_done(robot, extended).status == Status.STATUS_COMPLETE
        finally:
            server.stop()
            robot.stop_time_sync()


def test_rest_download_needs_a_token_and_says_204_when_empty(robot_sim, robot):
    url = f"https://{robot_sim.rest_hostname}/v1/data-buffer/daq-data/"
    context = ssl.create_default_context(cafile=str(robot_sim.ca_cert))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, context=context, timeout=10)
    assert refused.value.code == 401
    request = urllib.request.Request(url + "?from_sec=0&to_sec=1",
                                     headers={"Authorization": "Bearer " + robot.user_token})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        assert response.status == 204
