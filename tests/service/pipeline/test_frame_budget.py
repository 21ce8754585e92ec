"""The frame size budget: declared size and bytes per frame, checked without decoding."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from camera_service.imaging.budget import MIB, BudgetLimits
from camera_service.pipeline.frame_budget import FrameBudget, FrameTooLarge
from camera_service.sources.base import Frame

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
