"""Clips through the robot simulator with the SDK's own clients (issue 26's done-when).

Each test starts the whole service against ``robot_sim`` with clip-enabled sources,
acquires as Autowalk does (``robot_sim.daq_helpers.acquire``), downloads the group with the
SDK's REST helper and checks the clip file (ffprobe and PyAV) and its metadata.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from camera_service.robot.faults import fault_name
from camera_service.sources.base import ClipSettings
from clip_helpers import CLIPS_SERVICE, clip_source, clips_in, ffprobe_frames, start_clip_service
from service_test_helpers import SERVICE_NAME, synthetic

from devtools.polling import wait_for
from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.v4l2_world import FakeV4L2World, thermal_camera
from robot_sim.daq_helpers import acquire, data_captures, download_group, wait_done

GROUP = "2026-12-06T200000Z_Inspection"
FPS = 30


def _check_timeline(clip, duration_s: float, pre_roll_s: float, delivered: dict) -> None:
    """The clip holds exactly the frames the service got from the camera (``delivered``:
    serial -> local capture time, from the test's own frame store subscription) in
    ``[action - pre_roll_s, action + duration_s)``, in order, times strictly increasing:
    its first frame is the first at or after the start, so it follows the start by less
    than the camera's frame gap (one frame period at the camera's rate)."""
    meta = clip.metadata
    frames = meta["frames"]
    start = meta["action_local_time"] - pre_roll_s
    end = meta["action_local_time"] + duration_s
    serials = [f["serial"] for f in frames]
    gaps = [(a, b, delivered.get(a), delivered.get(a + 1), delivered.get(b))
            for a, b in zip(serials, serials[1:]) if b != a + 1]
    assert not gaps, (meta["source"], meta["frames_left_out"], start, end, gaps)
    assert [delivered[s] for s in serials] == [f["local_time"] for f in frames]
    assert delivered[serials[0] - 1] < start <= delivered[serials[0]]
    assert delivered[serials[-1]] < end <= delivered[serials[-1] + 1]
    times = [f["robot_time"] for f in frames]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert all(b > a for a, b in zip(clip.pts_ms, clip.pts_ms[1:]))
    assert len(clip.jpegs) == len(frames)


def _faulted_services(sim, camera: str) -> set:
    return {f.fault_id.service_name for f in sim.active_faults()
            if f.fault_id.fault_name == fault_name(camera)}


@pytest.mark.slow
def test_mjpeg_clip_holds_the_cameras_own_jpegs(robot_sim, started, tmp_path):
    with FakeIPCamera(width=320, height=240, fps=FPS, quality=70) as camera:
        service, robot, delivered = start_clip_service(
            robot_sim, started, [clip_source("front", url=camera.url)])
        status = acquire(robot, data_captures("front-clip", duration_s=5, pre_roll_s=2.0),
                         "Gauge 1", GROUP)
        assert status.status == daq.GetStatusResponse.STATUS_COMPLETE, status
        files = download_group(robot_sim, robot, GROUP, tmp_path / "dl")
        clip = clips_in(files, tmp_path / "clips")["front-clip"]
        sequences = [camera.sequence_of(jpeg) for jpeg in clip.jpegs]
    assert None not in sequences  # every JPEG byte-identical to one the camera sent
    # in the camera's order (a loaded machine may miss one the camera sent: the fake camera
    # streams its latest frame; the clip holds every frame the service got, checked below)
    assert all(b > a for a, b in zip(sequences, sequences[1:]))
    # (how many of the camera's 30 frames/s reach the service depends on the machine's load:
    # the frame count of a 7 s clip is a figure of bench.clips, not asserted here)
    _check_timeline(clip, 5, 2.0, delivered["front"])
    meta = clip.metadata
    assert meta["complete"] and meta["camera"]["width"] == 320
    assert meta["action"] == {"action_name": "Gauge 1", "group_name": GROUP}
    streams = ffprobe_frames(clip.path)
    assert [(s["codec_name"], int(s["nb_read_packets"])) for s in streams] == [
        ("mjpeg", len(clip.jpegs))]
    wait_for(lambda: not os.listdir(service.clips.plugin.folder))  # stored, then deleted


@pytest.mark.slow
def test_raw_and_sixteen_bit_clips_at_once(robot_sim, started, tmp_path):
    """A raw synthetic camera (encoded once per frame) and a 16-bit source (raw values
    lossless in FFV1 plus the 8-bit view), two clips from two cameras in one action."""
    world = FakeV4L2World(str(tmp_path / "v4l2"))
    raw = synthetic("raw", width=160, height=120, fps=FPS, native_jpeg=False)
    small = {(160, 128): float(FPS)}
    thermal = world.source(world.plug(thermal_camera(paced=True, modes={
        "GREY": dict(small), "Y16": dict(small)})), "thermal", fps=FPS)
    for source in (raw, thermal):
        source.settings.clips = ClipSettings(enabled=True, pre_roll_s=1.0)
    service, robot, delivered = start_clip_service(robot_sim, started, [],
                                                   built=[raw, thermal])
    encodes = service.cache.stats()["encodes"]
    status = acquire(robot, data_captures("raw-clip", "thermal-clip", duration_s=3,
                                          pre_roll_s=1.0), "Both", GROUP)
    assert status.status == daq.GetStatusResponse.STATUS_COMPLETE, status
    clips = clips_in(download_group(robot_sim, robot, GROUP, tmp_path / "dl"),
                     tmp_path / "clips")
    assert set(clips) == {"raw-clip", "thermal-clip"}
    # every frame encoded once, through the cache GetImage shares (no other client here)
    assert service.cache.stats()["encodes"] - encodes == sum(len(c.jpegs)
                                                             for c in clips.values())
    for name, clip in clips.items():
        _check_timeline(clip, 3, 1.0, delivered[name[:-len("-clip")]])
    assert [s["codec_name"] for s in ffprobe_frames(clips["raw-clip"].path)] == ["mjpeg"]
    thermal = clips["thermal-clip"]
    streams = ffprobe_frames(thermal.path)
    assert [(s["codec_name"], s.get("pix_fmt")) for s in streams][1] == ("ffv1", "gray16le")
    import av
    with av.open(str(thermal.path)) as container:
        values = [f.to_ndarray() for f in container.decode(video=1)]
    assert len(values) == len(thermal.jpegs)
    assert values[0].dtype == np.uint16 and values[0].shape == (128, 160)
    assert int(values[0].max()) > 255  # the 16-bit values, not the view


def _recording_front_clip(sim, started, camera, duration_s: int, action: str, group: str):
    """The service with ``camera`` as clip source ``front``, recording a ``front-clip`` of
    ``duration_s``; returns (service, robot, Data Acquisition client, request id)."""
    service, robot, _ = start_clip_service(sim, started, [clip_source("front", url=camera.url)])
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    request_id = client.acquire_data(data_captures("front-clip", duration_s=duration_s),
                                     action, group)
    wait_for(lambda: service.clips.plugin.recording == 1)
    return service, robot, client, request_id


@pytest.mark.slow
def test_cancel_mid_clip_stops_the_recording_and_stores_nothing(robot_sim, started, tmp_path):
    with FakeIPCamera(width=160, height=120, fps=FPS) as camera:
        service, robot, client, request_id = _recording_front_clip(
            robot_sim, started, camera, 30, "cancelled", "cancel-group")
        plugin = service.clips.plugin
        client.cancel_acquisition(request_id)
        status = wait_done(robot, request_id)
        assert status.status == daq.GetStatusResponse.STATUS_ACQUISITION_CANCELLED
        wait_for(lambda: plugin.recording == 0)
    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    assert not store.list_stored_data(store_pb2.DataQueryParams())
    assert not os.listdir(plugin.folder)  # the partial file is gone


@pytest.mark.slow
def test_camera_unplugged_mid_clip_gives_a_data_error_naming_it(robot_sim, started, tmp_path):
    with FakeIPCamera(width=160, height=120, fps=FPS) as camera:
        _service, robot, _client, request_id = _recording_front_clip(
            robot_sim, started, camera, 20, "Unplugged", GROUP)
        camera.stop()  # the camera vanishes from the network mid-clip
        status = wait_done(robot, request_id)
        # faulted for the clips plugin as for the image service, cleared once it is back
        wait_for(lambda: _faulted_services(robot_sim, "front") == {SERVICE_NAME,
                                                                   CLIPS_SERVICE})
        camera.start()
        wait_for(lambda: not _faulted_services(robot_sim, "front"))
    assert status.status == daq.GetStatusResponse.STATUS_DATA_ERROR, status
    (error,) = status.data_errors
    assert error.data_id.channel == "front-clip"
    assert "camera 'front'" in error.error_message
    # what was recorded before the failure is kept and downloadable
    clip = clips_in(download_group(robot_sim, robot, GROUP, tmp_path / "dl"),
                    tmp_path / "clips")["front-clip"]
    assert not clip.metadata["complete"] and "front" in clip.metadata["failure"]
    assert len(clip.jpegs) == len(clip.metadata["frames"]) > 0
