"""The passthrough policy end to end: fake IP camera -> url source -> service over real gRPC,
asked with the SDK's default request (JPEG, quality 75, full size) as the tablet asks."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import build_image_request
from camera_service.core.jpeg_quality import estimate_quality
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from service_test_helpers import wait_for

from fake_cameras.ip_camera import FakeIPCamera

Image = image_pb2.Image
OK = image_pb2.ImageResponse.STATUS_OK


class ForeignTablesCamera(FakeIPCamera):
    """An IP camera whose encoder uses its own luminance table: its quality is unknown."""

    def _encode(self) -> bytes:
        data = bytearray(super()._encode())
        start = bytes(data).index(b"\xff\xdb") + 5  # the first table's 64 coefficients
        data[start:start + 64] = bytes(range(64, 0, -1))
        return bytes(data)


def _ipcam(camera, policy="auto"):
    return create_source("url", SourceSettings(name="cam", jpeg_passthrough=policy,
                                               options={"url": camera.url, "timeout": 2}))


def _get(service, request):
    reply = service.stub.GetImage(image_pb2.GetImageRequest(image_requests=[request]),
                                  timeout=10)
    (response,) = reply.image_responses
    assert response.status == OK
    return response


@pytest.mark.parametrize("camera_type", [FakeIPCamera, ForeignTablesCamera])
def test_default_request_gets_the_cameras_bytes_whatever_its_quality(local_service,
                                                                     camera_type):
    with camera_type(width=160, height=120, fps=20, quality=90) as camera:
        service = local_service(_ipcam(camera))
        frame_quality = service.store.latest("cam").frame.jpeg_quality
        assert frame_quality == (90 if camera_type is FakeIPCamera else None)
        for _ in range(3):
            image = _get(service, build_image_request("cam")).shot.image
            assert (image.cols, image.rows, image.format) == (160, 120, Image.FORMAT_JPEG)
            sequence = camera.sequence_of(image.data)
            assert sequence is not None and camera.jpeg_for(sequence) == image.data
        assert service.cache.encodes == 0 and service.cache.decodes == 0


@pytest.mark.parametrize("camera_type", [FakeIPCamera, ForeignTablesCamera])
def test_thin_link_reencodes_once_per_frame_for_any_number_of_clients(local_service,
                                                                      camera_type):
    with camera_type(width=160, height=120, fps=20, quality=90) as camera:
        service = local_service(_ipcam(camera, "thin-link"))
        answers = []
        barrier = threading.Barrier(4)

        def client():
            barrier.wait()
            for _ in range(6):
                answers.append(_get(service, build_image_request("cam")).shot)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        frames = {(s.acquisition_time.seconds, s.acquisition_time.nanos) for s in answers}
        assert len(answers) == 24
        assert service.cache.encodes == len(frames)  # one encode per frame served
        assert service.cache.decodes == len(frames)
        for shot in answers:
            assert camera.sequence_of(shot.image.data) is None  # not the camera's bytes
            assert estimate_quality(shot.image.data).quality == 75  # what was asked


def test_thin_link_keeps_the_cameras_bytes_near_its_quality_and_never_always_encodes(
        local_service):
    with FakeIPCamera(width=160, height=120, fps=20, quality=80) as camera:
        thin = local_service(_ipcam(camera, "thin-link"))
        image = _get(thin, build_image_request("cam", quality_percent=75)).shot.image
        assert camera.sequence_of(image.data) is not None  # 75 is not clearly below 80
        never = local_service(_ipcam(camera, "never"))
        image = _get(never, image_pb2.ImageRequest(image_source_name="cam")).shot.image
        assert camera.sequence_of(image.data) is None
        assert estimate_quality(image.data).quality == 80  # unset: the camera's own quality


def test_an_idle_source_only_reads_its_stream_and_the_next_request_is_fresh(local_service):
    with FakeIPCamera(width=160, height=120, fps=20, quality=90) as camera:
        service = local_service(_ipcam(camera))
        start = service.status("cam").frames
        wait_for(lambda: service.status("cam").frames >= start + 10)
        stats = service.cache.stats()
        assert (stats["decodes"], stats["encodes"], stats["passthroughs"]) == (0, 0, 0)
        latest = service.store.latest("cam")
        request = build_image_request("cam", image_format=Image.FORMAT_RAW, resize_ratio=0.5)
        shot = _get(service, request).shot
        served = shot.acquisition_time.seconds + shot.acquisition_time.nanos / 1e9
        assert served >= latest.frame.capture_time - 1e-6  # the latest frame, not an old one
        assert (shot.image.cols, shot.image.rows) == (80, 60)
        assert service.cache.decodes == 1  # the work the request asked for, once


def test_resized_colour_jpeg_is_encoded_from_the_half_scale_decode(local_service):
    with FakeIPCamera(width=160, height=120, fps=20, quality=90) as camera:
        service = local_service(_ipcam(camera))
        request = build_image_request("cam", image_format=Image.FORMAT_JPEG, resize_ratio=0.5)
        image = _get(service, request).shot.image
        decoded = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == (60, 80, 3) and service.cache.decodes == 1
