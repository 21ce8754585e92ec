"""The frame size budget: declared size and bytes per frame, checked without decoding."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from bosdyn.api import image_pb2
from camera_service.capture.frame_budget import FrameBudget, FrameTooLarge, SizeTooLarge
from camera_service.core.memory_limits import MIB, BudgetLimits
from camera_service.sources import create_source
from camera_service.sources.base import Frame, SourceInfo, SourceSettings
from service_test_helpers import wait_for

from fake_cameras.hostile_cameras import jpeg_bomb_camera

BUDGET = FrameBudget(BudgetLimits.from_limit(512 * MIB), "front")
TINY_JPEG = b"\xff\xd8" + bytes(600) + b"\xff\xd9"  # never decoded: only sizes are read


def test_a_jpeg_that_declares_30000x30000_is_refused_by_its_header():
    bomb = Frame(1, 0.0, 30000, 30000, jpeg=TINY_JPEG)
    with pytest.raises(FrameTooLarge) as raised:
        BUDGET.check(bomb, SimpleNamespace(width=30000, height=30000), None)
    message = str(raised.value)
    assert "camera 'front'" in message and "30000x30000" in message
    assert "service.memory_limit_mib" in message and "MiB" in message


def test_the_header_wins_over_the_size_a_source_assumed():
    frame = Frame(1, 0.0, 640, 480, jpeg=TINY_JPEG)
    with pytest.raises(FrameTooLarge):
        BUDGET.check(frame, SimpleNamespace(width=8000, height=8000), None)


def test_everyday_cameras_pass():
    for width, height in ((640, 480), (1920, 1080), (3840, 2160), (4000, 3000)):
        BUDGET.check(Frame(1, 0.0, width, height, jpeg=TINY_JPEG),
                     SimpleNamespace(width=width, height=height), None)
    BUDGET.check(Frame(1, 0.0, 1920, 1080, pixels=np.zeros((1080, 1920, 3), np.uint8)))


def test_an_8000x8000_pixel_camera_is_over_a_512_mib_budget():
    with pytest.raises(FrameTooLarge, match="8000x8000"):
        BUDGET.check(Frame(1, 0.0, 8000, 8000, pixels=np.zeros((1, 1, 3), np.uint8)))
    roomy = FrameBudget(BudgetLimits.from_limit(2048 * MIB), "front")
    roomy.check(Frame(1, 0.0, 8000, 8000, pixels=np.zeros((1, 1, 3), np.uint8)))


def test_bytes_per_frame():
    huge = b"\xff\xd8" + bytes(BUDGET.jpeg_bytes) + b"\xff\xd9"
    with pytest.raises(FrameTooLarge, match="per frame limit"):
        BUDGET.check(Frame(1, 0.0, 640, 480, jpeg=huge), SimpleNamespace(width=640, height=480))


def test_the_service_faults_a_jpeg_bomb_camera_and_never_serves_it(local_service):
    with jpeg_bomb_camera(fps=10) as camera:
        bomb = create_source("url", SourceSettings("bomb", options={"url": camera.url}))
        service = local_service(bomb, wait_for_frames=False)
        failure = wait_for(lambda: service.status("bomb").failure, timeout=10)
        assert "30000x30000" in failure and "service.memory_limit_mib" in failure
        for ratio in (0.0, 0.5):
            (response,) = service.stub.GetImage(image_pb2.GetImageRequest(image_requests=[
                image_pb2.ImageRequest(image_source_name="bomb", quality_percent=75,
                                       resize_ratio=ratio)]), timeout=10).image_responses
            assert response.status == image_pb2.ImageResponse.STATUS_IMAGE_DATA_ERROR
        assert service.store.latest("bomb") is None
        listed = service.stub.ListImageSources(image_pb2.ListImageSourcesRequest(),
                                               timeout=10).image_sources[0]
        assert (listed.cols, listed.rows) != (30000, 30000)


def test_a_source_that_opens_over_budget_is_refused_at_open():
    with pytest.raises(SizeTooLarge, match="frame budget"):
        BUDGET.check_open(SourceInfo(30000, 30000, 5.0, native_jpeg=True))
    BUDGET.check_open(SourceInfo(1920, 1080, 30.0, native_jpeg=True))
