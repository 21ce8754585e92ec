"""End to end: fake IP camera -> UrlSource -> capture thread -> ImageService GetImage over
real gRPC. The JPEG the tablet would receive is byte for byte the one the camera sent."""

from __future__ import annotations

from bosdyn.api import image_pb2
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from service_test_helpers import wait_for

from fake_cameras.ip_camera import FakeIPCamera

Image = image_pb2.Image


def get_jpeg(service, name="ipcam"):
    request = image_pb2.GetImageRequest(image_requests=[image_pb2.ImageRequest(
        image_source_name=name, image_format=Image.FORMAT_JPEG)])
    (response,) = service.stub.GetImage(request, timeout=10).image_responses
    return response


def test_getimage_serves_the_ip_camera_bytes_untouched_and_recovers(local_service):
    with FakeIPCamera(width=320, height=240, fps=25) as camera:
        source = create_source("url", SourceSettings(
            name="ipcam", options={"url": camera.url, "timeout": 1}))
        service = local_service(source)
        response = get_jpeg(service)
        assert response.status == image_pb2.ImageResponse.STATUS_OK
        image = response.shot.image
        assert (image.cols, image.rows, image.format) == (320, 240, Image.FORMAT_JPEG)
        before = camera.sequence_of(image.data)
        assert before is not None and camera.jpeg_for(before) == image.data
        assert service.cache.encodes == 0

        camera.stop()  # the camera drops off the network ...
        wait_for(lambda: service.status("ipcam").failure, timeout=10)
        camera.start()  # ... and comes back: no restart of the service

        def newer_frame():
            data = get_jpeg(service).shot.image.data
            sequence = camera.sequence_of(data)
            return sequence is not None and sequence > before and data

        data = wait_for(newer_frame, timeout=15)
        assert camera.jpeg_for(camera.sequence_of(data)) == data
