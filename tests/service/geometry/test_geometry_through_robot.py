"""Calibrated, mounted sources through the robot simulator, with the SDK's own clients and
helpers: frame trees resolve with ``frame_helpers.get_a_tform_b`` (body and payload
mounts, the payload moved on the robot), the served models project like OpenCV at full and
half size (Brown-Conrady and Kannala-Brandt), the served pixels agree with the served model,
and formats, timestamps and Data Acquisition keep working with the frame fields kept."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.api import image_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from bosdyn.client.frame_helpers import BODY_FRAME_NAME, get_a_tform_b
from bosdyn.client.image import build_image_request
from bosdyn.client.math_helpers import Quat, SE3Pose
from camera_service.geometry.calibration_file import write_calibration
from camera_service.geometry.camera_model import BROWN_CONRADY, CameraModel
from camera_service.geometry.mount import Mount
from geometry_helpers import (
    board_poses,
    inner_corners,
    opencv_project,
    points_in_view,
    project_with_source,
    render_view,
    same_pose,
    write_video,
)
from service_test_helpers import SERVICE_NAME, image_client, raw_stub, service_config, wait_for

Image = image_pb2.Image
FRONT = CameraModel(640, 480, 530.5, 528.25, 322.75, 236.5, BROWN_CONRADY,
                    (-0.27, 0.085, 0.0011, -0.0006, -0.012))
REAR_KB = {"fx": 285.0, "fy": 284.5, "cx": 319.25, "cy": 241.0, "model": "kannala_brandt",
           "coefficients": [0.052, -0.021, 0.0093, -0.0027], "width": 640, "height": 480}
FRONT_MOUNT = {"parent": "body", "xyz": [0.35, -0.02, 0.11], "rpy_deg": [-90, 5, -90]}
REAR_MOUNT = {"parent": "payload", "xyz": [-0.05, 0.0, 0.04], "quaternion": [0.5, -0.5, 0.5, 0.5]}


def _mount_pose(mount) -> SE3Pose:
    if "rpy_deg" in mount:
        parsed = Mount.from_rpy_deg(mount["parent"], mount["xyz"], mount["rpy_deg"])
    else:
        parsed = Mount(mount["parent"], tuple(mount["xyz"]), tuple(mount["quaternion"]))
    return SE3Pose.from_proto(parsed.pose())


def _payload_pose(x, yaw_deg):
    half = math.radians(yaw_deg) / 2
    return [x, 0.0, 0.18], [math.cos(half), 0.0, 0.0, math.sin(half)]


def _body_tform_payload(xyz, quaternion) -> SE3Pose:
    w, x, y, z = quaternion
    return SE3Pose(*xyz, Quat(w=w, x=x, y=y, z=z))


def _sensor_in_body(shot) -> SE3Pose | None:
    return get_a_tform_b(shot.transforms_snapshot, BODY_FRAME_NAME, shot.frame_name_image_sensor)


@pytest.fixture
def calibration(tmp_path):
    path = tmp_path / "front.yaml"
    write_calibration(str(path), FRONT)
    return str(path)


@pytest.fixture
def geometry_service(robot_sim, run_service, calibration):
    xyz, quaternion = _payload_pose(-0.2, 30)
    robot_sim.set_payload_pose(robot_sim.payload_guid, xyz, quaternion)
    synthetic = {"type": "synthetic", "width": 640, "height": 480, "fps": 10}
    service = run_service(service_config(robot_sim, [
        {"name": "front", **synthetic, "calibration": calibration, "mount": FRONT_MOUNT},
        {"name": "rear", **synthetic, "intrinsics": REAR_KB, "mount": REAR_MOUNT},
        {"name": "plain", **synthetic}]))
    robot, client = image_client(robot_sim)
    wait_for(lambda: service.payload_pose.current()[0] is not None)
    return service, robot, client


def test_mounts_resolve_with_the_sdk_frame_helpers(robot_sim, geometry_service):
    _, robot, client = geometry_service
    front, rear, plain = client.get_image_from_sources(["front", "rear", "plain"])
    assert front.shot.frame_name_image_sensor == "front_image_sensor"
    assert same_pose(_sensor_in_body(front.shot), _mount_pose(FRONT_MOUNT))
    xyz, quaternion = _payload_pose(-0.2, 30)
    body_tform_payload = _body_tform_payload(xyz, quaternion)
    assert same_pose(_sensor_in_body(rear.shot), body_tform_payload * _mount_pose(REAR_MOUNT))
    # no geometry configured: as before
    assert plain.shot.frame_name_image_sensor == ""
    assert not plain.shot.transforms_snapshot.child_to_parent_edge_map
    assert plain.source.WhichOneof("camera_models") is None

    # ListImageSources carries one tree with both sensors
    listed = raw_stub(robot).ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=5)
    for name, expected in (("front", _mount_pose(FRONT_MOUNT)),
                           ("rear", body_tform_payload * _mount_pose(REAR_MOUNT))):
        pose = get_a_tform_b(listed.transforms_snapshot, BODY_FRAME_NAME, f"{name}_image_sensor")
        assert same_pose(pose, expected)

    # the payload moved in the admin console: the rear camera follows, the front does not
    xyz, quaternion = _payload_pose(-0.35, -20)
    robot_sim.set_payload_pose(robot_sim.payload_guid, xyz, quaternion)
    moved = _body_tform_payload(xyz, quaternion) * _mount_pose(REAR_MOUNT)
    wait_for(lambda: same_pose(_sensor_in_body(
        client.get_image_from_sources(["rear"])[0].shot), moved), timeout=5)
    assert same_pose(_sensor_in_body(client.get_image_from_sources(["front"])[0].shot),
                     _mount_pose(FRONT_MOUNT))


@pytest.mark.parametrize("name, fisheye", [("front", False), ("rear", True)])
@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_served_model_projects_like_opencv(geometry_service, name, fisheye, ratio):
    _, _, client = geometry_service
    (response,) = client.get_image([build_image_request(name, resize_ratio=ratio)])
    if fisheye:
        matrix = np.array([[REAR_KB["fx"], 0, REAR_KB["cx"]], [0, REAR_KB["fy"], REAR_KB["cy"]],
                           [0, 0, 1]])
        coefficients = REAR_KB["coefficients"]
    else:
        matrix, coefficients = FRONT.camera_matrix(), FRONT.coefficients
    points = points_in_view(half_angle_deg=60 if fisheye else 30)
    expected = opencv_project(points, matrix, coefficients, fisheye)
    scale = np.array([response.shot.image.cols / 640, response.shot.image.rows / 480])
    assert response.shot.image.cols == 640 * ratio
    assert (response.source.cols, response.source.rows) == (response.shot.image.cols,
                                                            response.shot.image.rows)
    expected = (expected + 0.5) * scale - 0.5  # pixel centres, as the image is resized
    error = np.abs(project_with_source(response.source, points) - expected).max()
    print(f"{name} resize {ratio}: max {error:.2e} px over {len(points)} points")
    assert error < 0.1


def test_served_pixels_agree_with_the_served_model(robot_sim, run_service, calibration,
                                                   tmp_path):
    """A chessboard rendered through the calibrated camera, played by a file source: its
    corners, found in the served full and half-size images, sit where the served model
    projects them."""
    rvec, tvec = board_poses(1)[0]
    matrix, coefficients = FRONT.camera_matrix(), FRONT.coefficients
    view = render_view(640, 480, matrix, coefficients, False, rvec, tvec)
    video = tmp_path / "board.avi"
    write_video(str(video), [view, view])
    run_service(service_config(robot_sim, [{"name": "board", "type": "file",
                                            "path": str(video), "fps": 5,
                                            "calibration": calibration}]))
    _, client = image_client(robot_sim)
    rotation, _ = cv2.Rodrigues(rvec)
    corners_in_camera = inner_corners() @ rotation.T + tvec
    for ratio in (1.0, 0.5):
        (response,) = client.get_image([build_image_request(
            "board", image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8,
            resize_ratio=ratio)])
        image = np.frombuffer(response.shot.image.data, np.uint8).reshape(
            response.shot.image.rows, response.shot.image.cols)
        found, corners = cv2.findChessboardCorners(image, (9, 6))
        assert found
        corners = cv2.cornerSubPix(image, corners, (5, 5), (-1, -1), (
            cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)).reshape(-1, 2)
        if corners[0, 0] > corners[-1, 0]:
            corners = corners[::-1]  # the detector may start at either end
        offsets = corners - project_with_source(response.source, corners_in_camera)
        # MJPG noise moves single corners by ~0.1 px (seen: bias 0.003 px at full size,
        # 0.0001 px at half); a scaling error shifts all of them alike (0.25 px at half size
        # for the cx * s convention)
        bias = np.abs(offsets.mean(axis=0)).max()
        print(f"served pixels at resize {ratio}: bias {bias:.4f} px, "
              f"max {np.abs(offsets).max():.3f} px")
        assert bias < 0.03, f"resize {ratio}: corners {bias:.3f} px off the served model"
        assert np.abs(offsets).max() < 0.25


@pytest.mark.parametrize("image_format, pixel_format, channels", [
    (Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 3),
    (Image.FORMAT_JPEG, Image.PIXEL_FORMAT_GREYSCALE_U8, 1),
    (Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, 3),
    (Image.FORMAT_RAW, Image.PIXEL_FORMAT_GREYSCALE_U8, 1),
])
def test_formats_and_timestamps_with_calibrated_sources(robot_sim, geometry_service,
                                                        image_format, pixel_format, channels):
    service, _, client = geometry_service
    wait_for(lambda: service.clock.established)
    (response,) = client.get_image([build_image_request(
        "front", image_format=image_format, pixel_format=pixel_format)])
    shot = response.shot
    assert (shot.image.format, shot.image.pixel_format) == (image_format, pixel_format)
    assert (shot.image.cols, shot.image.rows) == (640, 480)
    if image_format == Image.FORMAT_RAW:
        assert len(shot.image.data) == 640 * 480 * channels
    else:
        decoded = cv2.imdecode(np.frombuffer(shot.image.data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert decoded.shape[:2] == (480, 640)
    acquired = shot.acquisition_time.seconds + shot.acquisition_time.nanos / 1e9
    robot_now = robot_sim.clock.now_nsec() / 1e9
    assert -2.0 < robot_now - acquired < 2.0  # robot time, not local time
    assert shot.frame_name_image_sensor == "front_image_sensor"
    assert response.source.HasField("pinhole_brown_conrady")


def test_data_acquisition_capture_keeps_the_frame_fields(robot_sim, geometry_service):
    _, robot, _ = geometry_service
    robot.time_sync.wait_for_sync(timeout_sec=5)
    try:
        client = robot.ensure_client(DataAcquisitionClient.default_service_name)
        request_id = client.acquire_data(daq.AcquisitionRequestList(image_captures=[
            daq.ImageSourceCapture(image_service=SERVICE_NAME, image_source=name)
            for name in ("front", "rear")]), "inspect", "geometry")
        deadline = time.monotonic() + 10
        while client.get_status(request_id).status != daq.GetStatusResponse.STATUS_COMPLETE:
            assert time.monotonic() < deadline, client.get_status(request_id)
            time.sleep(0.05)
        store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
        results = store.query_stored_captures(store_pb2.QueryParameters(include_images=True))
        shots = {r.image.frame_name_image_sensor: r.image for r in results.results}
        assert set(shots) == {"front_image_sensor", "rear_image_sensor"}
        assert same_pose(_sensor_in_body(shots["front_image_sensor"]),
                         _mount_pose(FRONT_MOUNT))
        xyz, quaternion = _payload_pose(-0.2, 30)
        assert same_pose(_sensor_in_body(shots["rear_image_sensor"]),
                         _body_tform_payload(xyz, quaternion) * _mount_pose(REAR_MOUNT))
    finally:
        robot.stop_time_sync()
