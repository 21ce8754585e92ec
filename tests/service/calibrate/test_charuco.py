"""ChArUco views: corners found by id (a partly hidden board still gives a view), each view
solved with its own object points; the chessboard stays the default."""

from __future__ import annotations

import numpy as np
import pytest
from camera_service.calibrate.solve import solve
from camera_service.calibrate.views import CHARUCO, CHESSBOARD, Board, ViewSet, detect
from camera_service.geometry.camera_model import BROWN_CONRADY

from fake_cameras.board_camera import BoardCamera, default_model
from fake_cameras.board_render import BoardSpec

TOLERANCE = 0.005
pytestmark = pytest.mark.slow  # 24 rendered 960x540 ChArUco frames and a solve


@pytest.fixture(scope="module")
def charuco_camera() -> BoardCamera:
    return BoardCamera(default_model("pinhole", 960, 540), BoardSpec(CHARUCO), poses=24)


def test_the_chessboard_is_the_default():
    assert Board(9, 6).pattern == CHESSBOARD


def test_charuco_corners_carry_their_ids(charuco_camera):
    board = Board(9, 6, 0.025, CHARUCO)
    corners, ids = detect(charuco_camera.frame(0), board)
    truth = charuco_camera.corners(0)
    assert len(ids) >= 20 and len(corners) == len(ids)
    # each corner is where the model projects the board corner of its id
    assert np.abs(corners - truth[ids]).max() < 1.0


def test_a_partly_hidden_board_still_gives_a_view(charuco_camera):
    board = Board(9, 6, 0.025, CHARUCO)
    image = charuco_camera.frame(0).copy()
    corners, ids = detect(image, board)
    image[:, : int(np.median(corners[:, 0]))] = 255  # hide the left half of the board
    found = detect(image, board)
    assert found is not None and 6 <= len(found[1]) < len(ids)
    assert set(found[1]) <= set(ids)


def test_charuco_calibration_gives_back_the_model(charuco_camera):
    views = ViewSet(Board(9, 6, 0.025, CHARUCO), charuco_camera.model.size)
    for index in range(len(charuco_camera.poses)):
        views.offer(charuco_camera.frame(index))
    assert len(views.corners) >= 10
    assert [len(p) for p in views.object_points()] == [len(c) for c in views.corners]
    solution = solve(views, BROWN_CONRADY)
    for name in ("fx", "fy", "cx", "cy"):
        truth = getattr(charuco_camera.model, name)
        assert abs(getattr(solution.model, name) - truth) / truth < TOLERANCE, name
    assert solution.rms < 0.5


def test_a_chessboard_is_not_taken_for_a_charuco_board():
    camera = BoardCamera(default_model("pinhole", 640, 360), poses=4)
    assert detect(camera.frame(0), Board(9, 6, 0.025, CHARUCO)) is None
