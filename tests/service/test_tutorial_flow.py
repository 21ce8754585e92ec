"""The Data Acquisition tutorial's test flow (part 2, "Testing the service") under the
example's names, with the SDK's clients, against the robot simulator.

The tutorial runs ``web_cam_image_service.py --payload-credentials-file $CRED_FILE $ROBOT_IP
--host-ip $SELF_IP --port $WEBCAM_PORT`` (here with its ``--device-name`` list: a video file
and an HTTP MJPEG camera), finds ``$SELF_IP`` with ``python3 -m bosdyn.client $ROBOT_IP
self-ip``, checks the directory with ``... dir list`` and then runs ``image_service_tester.py
$ROBOT_IP --service-name web-cam-service --check-data-acquisition``. The tester's checks are
made here with the SDK's clients: directory registration, reachable through the robot, no
active service faults, every source in every listed format and pixel format, acquisition
timestamps in order and in robot time, Data Acquisition captures of every source stored,
and no faults afterwards.
"""

from __future__ import annotations

import time

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.api import image_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from bosdyn.client.directory import DirectoryClient
from bosdyn.client.image import build_image_request
from bosdyn.client.robot_state import RobotStateClient
from example_lines import TWO_CAMERA_LINES, ExampleRun, fill
from service_test_helpers import sdk_cli, wait_for

from bench.processes import free_port
from fake_cameras.ip_camera import FakeIPCamera

NAME, AUTHORITY = "web-cam-service", "robot-web-cam"
SOURCES = ["clip.avi", "stream.mjpg"]
WAIT = 30.0
Status = daq.GetStatusResponse
CHANNELS = {image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U8: 1, image_pb2.Image.PIXEL_FORMAT_RGB_U8: 3,
            image_pb2.Image.PIXEL_FORMAT_RGBA_U8: 4}


def _sdk_cli(sim, *args: str) -> str:
    """The SDK's command line against the simulator; its stdout (its exit status is not
    checked: the SDK's ``self-ip`` exits 1 after printing the answer)."""
    return sdk_cli(sim, *args).stdout


@pytest.fixture
def clip(tmp_path):
    import cv2
    import numpy as np

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    for level in range(0, 250, 10):
        writer.write(np.full((240, 320, 3), level, np.uint8))
    writer.release()
    return path


def _service_faults(robot):
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    return [f for f in state.service_fault_state.faults if f.service_name == NAME]


def _every_format(client, source: image_pb2.ImageSource) -> int:
    """Each listed format x pixel format answers OK with what was asked; returns the count."""
    assert image_pb2.Image.FORMAT_JPEG in source.image_formats  # the tablet needs it
    count = 0
    for image_format in source.image_formats:
        for pixel_format in source.pixel_formats:
            request = build_image_request(source.name, image_format=image_format,
                                          pixel_format=pixel_format)
            (response,) = client.get_image([request])
            assert response.status == image_pb2.ImageResponse.STATUS_OK, (source.name,
                                                                          image_format)
            image = response.shot.image
            assert (image.format, image.pixel_format) == (image_format, pixel_format)
            assert (image.cols, image.rows) == (source.cols, source.rows)
            if image_format == image_pb2.Image.FORMAT_RAW:
                assert len(image.data) == image.cols * image.rows * CHANNELS[pixel_format]
            count += 1
    return count


def _timestamps_in_order(robot, client, source: str) -> None:
    """Acquisition times of consecutive requests never go back, advance, and are robot time
    (the simulator's clock runs seconds ahead of this machine's)."""
    stamps = []
    for _ in range(8):
        (response,) = client.get_image_from_sources([source])
        stamps.append(response.shot.acquisition_time.ToNanoseconds())
        time.sleep(0.1)
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0]
    robot_now = robot.time_sync.robot_timestamp_from_local_secs(time.time()).ToNanoseconds()
    assert abs(robot_now - stamps[-1]) < 2e9


def _acquire_every_source(robot, sizes) -> None:
    """Data Acquisition captures every source (``sizes``: name -> (cols, rows)); the store
    holds each as a JPEG of that size."""
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    info = client.get_service_info()
    offered = {(c.service_name, name) for c in info.image_sources for name in c.image_source_names}
    assert {(NAME, source) for source in SOURCES} <= offered
    captures = daq.AcquisitionRequestList(image_captures=[
        daq.ImageSourceCapture(image_service=NAME, image_source=source) for source in SOURCES])
    request_id = client.acquire_data(captures, "tutorial-check", "web-cam-group")
    response = wait_for(lambda: (r := client.get_status(request_id)).status not in (
        Status.STATUS_ACQUIRING, Status.STATUS_SAVING) and r, timeout=WAIT)
    assert response.status == Status.STATUS_COMPLETE, response
    assert sorted(d.channel for d in response.data_saved) == SOURCES
    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    results = store.query_stored_captures(store_pb2.QueryParameters(include_images=True))
    stored = {r.data_id.channel: r.image.image for r in results.results}
    assert set(SOURCES) <= set(stored)
    for source, size in sizes.items():
        image = stored[source]
        assert image.format == image_pb2.Image.FORMAT_JPEG and image.data[:2] == b"\xff\xd8"
        assert (image.cols, image.rows) == size


@pytest.mark.slow
def test_tutorial_flow_under_the_example_names(robot_sim, clip):
    answer = _sdk_cli(robot_sim, "self-ip")
    assert "The IP address of the computer used to talk to the robot is" in answer
    self_ip = answer.strip().rsplit(" ", 1)[-1]
    assert self_ip == "127.0.0.1"
    (line,) = [line for line in TWO_CAMERA_LINES if line.id == "tutorial-device-list"]
    with FakeIPCamera(width=320, height=240, fps=15, quality=75) as camera:
        argv = fill(line, robot_sim, free_port(), None, cameras=[str(clip), camera.url])
        assert argv[argv.index("--host-ip") + 1] == self_ip
        with ExampleRun(robot_sim, argv) as run:
            robot = robot_sim.sdk_robot("image_service_tester")
            robot.time_sync.wait_for_sync(timeout_sec=10)
            entry = wait_for(lambda: robot_sim._find_entry(NAME), timeout=WAIT)
            # directory registration, as the SDK's DirectoryClient and `dir list` show it
            listed = robot.ensure_client(DirectoryClient.default_service_name).get_entry(NAME)
            assert (listed.type, listed.authority) == ("bosdyn.api.ImageService",
                                                       f"{AUTHORITY}.spot.robot")
            assert entry.authority == listed.authority
            assert NAME in _sdk_cli(robot_sim, "dir", "list")
            # reachable through the robot, no active faults once the cameras deliver
            robot.sync_with_directory()
            client = robot.ensure_client(NAME)
            sources = wait_for(lambda: client.list_image_sources(), timeout=WAIT)
            assert sorted(s.name for s in sources) == SOURCES
            for source in SOURCES:
                wait_for(lambda s=source: client.get_image_from_sources([s]), timeout=WAIT)
            assert _service_faults(robot) == []
            formats = sum(_every_format(client, source) for source in sources)
            assert formats >= 2 * len(sources) * 2  # JPEG and RAW, each pixel format
            for source in SOURCES:
                _timestamps_in_order(robot, client, source)
            _acquire_every_source(robot, {s.name: (s.cols, s.rows) for s in sources})
            assert _service_faults(robot) == []
            assert run.alive() and "Traceback" not in run.log
            robot.stop_time_sync()
        assert run.stop() == 0
