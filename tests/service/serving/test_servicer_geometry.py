"""The servicer's geometry hooks: models at every resize ratio, frames on every shot."""

from __future__ import annotations

import numpy as np
from bosdyn.api import image_pb2
from bosdyn.client.image import build_image_request
from camera_service.geometry.camera_model import BROWN_CONRADY, CameraModel
from camera_service.geometry.config import GeometrySettings
from camera_service.geometry.mount import Mount
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings

MODEL = CameraModel(320, 240, 280.0, 279.0, 161.25, 118.5, BROWN_CONRADY,
                    (-0.2, 0.05, 0.001, 0.0, 0.0))


def _calibrated(name="cam", mount=None):
    settings = SourceSettings(name, width=320, height=240, fps=30,
                              geometry=GeometrySettings(MODEL, mount))
    return create_source("synthetic", settings)


def _get(stub, *requests):
    return stub.GetImage(image_pb2.GetImageRequest(image_requests=list(requests)),
                         timeout=5).image_responses


def test_every_resize_ratio_gets_the_model_of_its_image(local_service):
    service = local_service(_calibrated())
    ratios = np.random.default_rng(7).uniform(0.01, 1.0, size=80)
    for ratio in ratios:
        (response,) = _get(service.stub, build_image_request("cam", resize_ratio=float(ratio)))
        assert response.status == image_pb2.ImageResponse.STATUS_OK
        image, source = response.shot.image, response.source
        assert (source.cols, source.rows) == (image.cols, image.rows)
        intrinsics = source.pinhole_brown_conrady.intrinsics
        assert abs(intrinsics.pinhole_intrinsics.focal_length.x - 280.0 * image.cols / 320) < 1e-9
        assert abs(intrinsics.k1 - -0.2) < 1e-7  # a float field
    # only a bounded number of resized descriptions is kept
    assert len(service.service.servicer.descriptions._resized) <= 64


def test_list_and_shots_without_a_mount_have_no_frames(local_service):
    service = local_service(_calibrated())
    listed = service.stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=5)
    assert listed.image_sources[0].HasField("pinhole_brown_conrady")
    assert not listed.transforms_snapshot.child_to_parent_edge_map
    (response,) = _get(service.stub, build_image_request("cam"))
    assert response.shot.frame_name_image_sensor == ""


def test_one_request_many_sources(local_service):
    mount = Mount.from_rpy_deg("body", (0.1, 0.0, 0.2), (-90, 0, -90))
    service = local_service(_calibrated("a", mount), _calibrated("b"))
    first, second = _get(service.stub, build_image_request("a", resize_ratio=0.5),
                         build_image_request("b"))
    assert first.shot.frame_name_image_sensor == "a_image_sensor"
    assert "a_image_sensor" in first.shot.transforms_snapshot.child_to_parent_edge_map
    assert first.source.cols == 160 and second.source.cols == 320
    assert second.shot.frame_name_image_sensor == ""
