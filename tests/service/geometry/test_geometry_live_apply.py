"""A live config change (settings page, file edit, SIGHUP) brings a source's new geometry."""

from __future__ import annotations

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.image import build_image_request
from camera_service.app.service import CameraService
from camera_service.config.model import from_mapping
from service_test_helpers import QUICK_RETRY, wait_for

SOURCE = {"name": "front", "type": "synthetic", "width": 320, "height": 240, "fps": 20}
GEOMETRY = {"intrinsics": {"fx": 300, "fy": 300, "cx": 159.5, "cy": 119.5},
            "mount": {"parent": "body", "xyz": [0.3, 0, 0.1], "rpy_deg": [-90, 0, -90]}}


def _config(**extra):
    return from_mapping({"service": {"port": 0, "bind": "127.0.0.1"},
                         "sources": [{**SOURCE, **extra}]})


def test_added_geometry_is_served_after_a_live_apply():
    service = CameraService(_config(), retry=QUICK_RETRY)
    service.serve()
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    stub = image_service_pb2_grpc.ImageServiceStub(channel)

    def answer():
        request = image_pb2.GetImageRequest(image_requests=[build_image_request("front")])
        (response,) = stub.GetImage(request, timeout=5).image_responses
        return response if response.status == image_pb2.ImageResponse.STATUS_OK else None

    try:
        before = wait_for(answer)
        assert before.shot.frame_name_image_sensor == ""
        assert service.apply(_config(**GEOMETRY))["reopened"] == ["front"]
        after = wait_for(lambda: (r := answer()) and r.shot.frame_name_image_sensor and r)
        assert after.shot.frame_name_image_sensor == "front_image_sensor"
        assert after.source.pinhole.intrinsics.focal_length.x == 300
        service.apply(_config())
        wait_for(lambda: (r := answer()) and not r.shot.frame_name_image_sensor)
    finally:
        channel.close()
        service.stop()
