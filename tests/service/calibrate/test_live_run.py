"""CalibrationRun (the settings page's calibrate panel): views kept by hand or
automatically, refusals in one line, bounded views and image size, pose spread with hints,
the solve on its own thread and its RMS explained."""

from __future__ import annotations

import numpy as np
import pytest
from camera_service.calibrate.live_run import (
    MAX_PIXELS,
    CalibrationRun,
    RunError,
    rms_meaning,
)
from camera_service.calibrate.views import Board

from fake_cameras.board_camera import BoardCamera, default_model


@pytest.fixture(scope="module")
def camera() -> BoardCamera:
    return BoardCamera(default_model("pinhole", 640, 360), poses=12)


def test_capture_keeps_the_last_detection_once(camera):
    run = CalibrationRun("board", Board(9, 6))
    with pytest.raises(RunError, match="no 9x6 board"):
        run.capture()
    assert run.look(camera.frame(0)) is not None
    assert run.capture() == "kept"
    with pytest.raises(RunError, match="same place"):
        run.capture()
    run.look(np.full((360, 640), 200, np.uint8))
    with pytest.raises(RunError, match="no 9x6 board"):
        run.capture()
    assert run.status()["views"] == 1


def test_auto_keeps_views_up_to_the_bound(camera):
    run = CalibrationRun("board", Board(9, 6), max_views=5)
    run.auto = True
    for index in range(len(camera.poses)):
        run.look(camera.frame(index))
    status = run.status()
    assert status["views"] == 5 and "5 views kept" in status["last"]
    assert sum(map(sum, status["grid"])) >= 2


def test_a_huge_or_colour_image_is_refused():
    run = CalibrationRun("board", Board(9, 6))
    with pytest.raises(RunError, match="pixels"):
        run.look(np.zeros((3073, 4097), np.uint8))
    assert MAX_PIXELS < 3073 * 4097
    with pytest.raises(RunError):
        run.look(np.zeros((10, 10, 3), np.uint8))


def test_pose_spread_asks_for_distance_and_tilt(camera):
    run = CalibrationRun("board", Board(9, 6))
    run.look(camera.frame(0))
    run.capture()
    hints = run.status()["poses"]["hints"]
    assert any("distance" in h for h in hints) and any("tilt" in h for h in hints)
    run.auto = True
    for index in range(len(camera.poses)):
        run.look(camera.frame(index))
    poses = run.status()["poses"]
    assert poses["distance_spread"] > 1.4 and poses["hints"] == []


def test_solve_runs_in_the_background_and_reports_the_model(camera):
    run = CalibrationRun("board", Board(9, 6))
    with pytest.raises(RunError, match="at least 5"):
        run.start_solve()
    with pytest.raises(RunError, match="solve the calibration first"):
        run.solved()
    run.auto = True
    for index in range(len(camera.poses)):
        run.look(camera.frame(index))
    run.start_solve()
    assert run.wait_solved(120)
    result = run.status()["result"]
    assert result["rms"] < 0.5 and result["meaning"].startswith("good")
    assert abs(result["fx"] - camera.model.fx) / camera.model.fx < 0.005
    run.clear()
    assert run.status()["views"] == 0 and "result" not in run.status()


def test_the_rms_is_explained():
    assert rms_meaning(0.2).startswith("good")
    assert rms_meaning(0.7).startswith("usable")
    assert rms_meaning(3.0).startswith("poor")
