"""Data Acquisition pieces without a robot: status merging and the download ZIP layout."""

from __future__ import annotations

import io
import json
import zipfile

from bosdyn.api import data_acquisition_pb2 as daq

from robot_sim.capture_store import DATA, METADATA, StoredItem
from robot_sim.daq_acquisition import Acquisition
from robot_sim.daq_zip import build_zip

Status = daq.GetStatusResponse
ACTION = daq.CaptureActionId(action_name="Gauge: 1", group_name="mission/one")


def _status(acquisition):
    response = daq.GetStatusResponse()
    acquisition.snapshot(response)
    return response


def test_merged_status_waits_for_every_part_and_ranks_failures():
    acquisition = Acquisition(1, deadline_nsec=0)
    acquisition.begin_part("images")
    acquisition.begin_part("plugin")
    saved = daq.DataIdentifier(channel="a")
    error = daq.DataError(data_id=daq.DataIdentifier(channel="b"), error_message="unplugged")
    acquisition.report("plugin", Status.STATUS_DATA_ERROR, [saved], [error])
    assert acquisition.status() == Status.STATUS_ACQUIRING  # images still running
    acquisition.end_part("plugin")
    acquisition.report("images", Status.STATUS_SAVING, [], [])
    assert acquisition.status() == Status.STATUS_SAVING
    acquisition.end_part("images")
    response = _status(acquisition)
    assert response.status == Status.STATUS_DATA_ERROR
    assert list(response.data_saved) == [saved] and list(response.data_errors) == [error]
    acquisition.add_service_error("plugin", daq.PluginServiceError.STATUS_INTERNAL_ERROR, "x")
    assert acquisition.status() == Status.STATUS_INTERNAL_ERROR
    acquisition.time_out()
    assert acquisition.status() == Status.STATUS_TIMEDOUT


def test_cancel_only_while_running():
    acquisition = Acquisition(1, deadline_nsec=0)
    waker = acquisition.begin_part("plugin")
    assert acquisition.request_cancel() and waker.is_set()
    assert acquisition.status() == Status.STATUS_CANCEL_IN_PROGRESS
    acquisition.end_part("plugin")
    assert acquisition.status() == Status.STATUS_ACQUISITION_CANCELLED
    assert not acquisition.request_cancel()


def test_deadline_only_moves_later():
    acquisition = Acquisition(1, deadline_nsec=100)
    acquisition.extend_deadline(50)
    acquisition.extend_deadline(300)
    assert acquisition.deadline_nsec == 300


def test_zip_holds_the_bytes_and_nests_referencing_metadata():
    data_id = daq.DataIdentifier(action_id=ACTION, channel="clips", data_name="front")
    blob = bytes(range(256)) * 10
    meta = daq.AssociatedMetadata(reference_id=data_id)
    meta.metadata.data.update({"fps": 30})
    items = [StoredItem(daq.DataIdentifier(action_id=ACTION, channel="clip-meta"), METADATA,
                        metadata=meta),
             StoredItem(data_id, DATA, data=blob, file_extension="mkv")]
    with zipfile.ZipFile(io.BytesIO(build_zip(items))) as archive:
        folder = "missionone"  # the group name without characters files cannot hold
        assert archive.read(f"{folder}/Gauge 1 clips front.mkv") == blob
        (action,) = json.loads(archive.read(f"{folder}/metadata.json"))["actions"]
    (entry,) = action["data"]["clips"]
    assert entry["filename"] == "Gauge 1 clips front.mkv"
    assert entry["metadata"]["clip-meta"][0]["data"] == {"fps": 30}
    assert action["metadata"] == {}
