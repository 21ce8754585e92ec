"""How each V4L2 frame was taken, end to end with a fake USB camera: capture_params'
exposure_duration and gain follow a control change made through GetImage custom params on
the first frame whose record shows it (the picture shows the change too), every control in
effect is echoed in custom_params; through the robot simulator, a Data Acquisition capture
keeps them and its acquisition_time is the frame's driver timestamp in robot time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.api import image_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from camera_service.app.service import CameraService
from camera_service.core.clock_map import MonotonicToWall
from camera_service.sources.v4l2.ioctl import CTRL_TYPE_INTEGER, RawControl
from service_test_helpers import (
    QUICK_RETRY,
    SERVICE_NAME,
    dict_params,
    image_client,
    service_config,
    wait_for,
)

from fake_cameras.v4l2_world import (
    BRIGHTNESS_ROWS,
    FakeCamera,
    FakeV4L2World,
    default_controls,
)

Image = image_pb2.Image
OK = image_pb2.ImageResponse.STATUS_OK
GAIN_ID = 0x00980911
MANUAL = {"auto_exposure": "Manual Mode", "exposure_time_absolute": 333, "gain": 7,
          "brightness": 20}  # 33.3 ms


def _camera(world) -> FakeCamera:
    """A UVC-like camera with a settable gain that keeps 3 frames queued in its driver and
    paints its brightness into each picture."""
    controls = [c for c in default_controls() if c.id != GAIN_ID]
    controls.append(RawControl(GAIN_ID, CTRL_TYPE_INTEGER, "Gain", 0, 255, 1, 0, 0))
    return world.plug(FakeCamera(controls=controls, paced=True, queued_buffers=3,
                                 shows_brightness=True))


def _brightness_shown(shot) -> int:
    picture = cv2.imdecode(np.frombuffer(shot.image.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return int(round(float(np.median(picture[:BRIGHTNESS_ROWS - 2]))) - 128)


def _request(**params) -> image_pb2.GetImageRequest:
    request = image_pb2.ImageRequest(image_source_name="usb", image_format=Image.FORMAT_JPEG)
    if params:
        request.custom_params.CopyFrom(dict_params(**params))
    return image_pb2.GetImageRequest(image_requests=[request])


def test_capture_params_follow_a_change_made_through_custom_params(local_service, tmp_path):
    world = FakeV4L2World(str(tmp_path))
    service = local_service(world.source(_camera(world), name="usb", fps=30))

    (before,) = service.stub.GetImage(_request(), timeout=10).image_responses
    assert before.status == OK
    # the camera chooses the exposure (aperture priority): not reported; gain 0 is
    params = before.shot.capture_params
    assert not params.HasField("exposure_duration") and params.gain == 0.0
    echoed = params.custom_params.values
    assert echoed["auto_exposure"].string_value.value == "Aperture Priority Mode"
    assert echoed["brightness"].int_value.value == 0

    for exposure, gain, brightness in ((333, 7, 20), (100, 12, -30)):
        change = {**MANUAL, "exposure_time_absolute": exposure, "gain": gain,
                  "brightness": brightness}
        (answer,) = service.stub.GetImage(_request(**change), timeout=10).image_responses
        assert answer.status == OK
        shot = answer.shot
        # the first frame whose record shows the change: the picture shows it too
        assert _brightness_shown(shot) == brightness
        assert shot.capture_params.exposure_duration.ToNanoseconds() == exposure * 100_000
        assert shot.capture_params.gain == gain
        echoed = shot.capture_params.custom_params.values
        assert echoed["exposure_time_absolute"].int_value.value == exposure
        assert echoed["auto_exposure"].string_value.value == "Manual Mode"
        # every later frame keeps reporting it
        (later,) = service.stub.GetImage(_request(), timeout=10).image_responses
        assert later.shot.capture_params.exposure_duration.ToNanoseconds() == \
            exposure * 100_000


@pytest.mark.slow
def test_data_acquisition_keeps_how_and_when_the_frame_was_taken(robot_sim, tmp_path):
    world = FakeV4L2World(str(tmp_path))
    camera = _camera(world)
    source = world.source(camera, name="usb", fps=30)
    config = service_config(robot_sim, [{"name": "usb", "type": "v4l2",
                                         "device": f"/dev/{camera.nodes[0]}"}])
    service = CameraService(config, sources=[source], retry=QUICK_RETRY)
    service.start()
    robot = None
    try:
        robot, client = image_client(robot_sim)
        robot.time_sync.wait_for_sync(timeout_sec=10)
        (answer,) = client.get_image(_request(**MANUAL).image_requests)
        assert answer.shot.capture_params.gain == 7

        acquisitions = robot.ensure_client(DataAcquisitionClient.default_service_name)
        request_id = acquisitions.acquire_data(daq.AcquisitionRequestList(image_captures=[
            daq.ImageSourceCapture(image_service=SERVICE_NAME, image_source="usb")]),
            "inspect", "frame-truth")
        wait_for(lambda: acquisitions.get_status(request_id).status
                 == daq.GetStatusResponse.STATUS_COMPLETE, timeout=15)
        store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
        results = store.query_stored_captures(store_pb2.QueryParameters(include_images=True))
        (shot,) = [r.image for r in results.results if r.data_id.channel == "usb"]
        params = shot.capture_params
        assert params.exposure_duration.ToNanoseconds() == 33_300_000 and params.gain == 7
        assert params.custom_params.values["brightness"].int_value.value == 20

        # acquisition_time: the driver's timestamp of that very frame, in robot time
        taken = camera.sent_times[camera.sent_jpegs.index(shot.image.data)]
        expected = robot.time_sync.robot_timestamp_from_local_secs(
            MonotonicToWall().to_wall(taken)).ToNanoseconds()
        error_ms = abs(shot.acquisition_time.ToNanoseconds() - expected) / 1e6
        print(f"DA acquisition_time - driver timestamp in robot time: {error_ms:.3f} ms")
        assert error_ms < 5.0, error_ms  # reading time would be 3 frames (100 ms) later
    finally:
        if robot is not None:
            robot.stop_time_sync()
        service.stop()
