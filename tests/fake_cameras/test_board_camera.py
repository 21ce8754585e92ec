"""The board camera: its frames show the board where the known camera model puts it, so
the project's calibration gives that model back (pinhole + Brown-Conrady and Kannala-Brandt
within 0.5 %), ChArUco boards are detected, the MJPEG stream carries the frames, and
``python -m camera_service.calibrate`` calibrates it through a ``url`` source."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import urllib.request

import cv2
import numpy as np
import pytest
from camera_service.calibrate.__main__ import main as calibrate_main
from camera_service.calibrate.solve import solve
from camera_service.calibrate.views import Board, ViewSet, find_corners
from camera_service.geometry.calibration_file import read_calibration
from camera_service.geometry.camera_model import BROWN_CONRADY, KANNALA_BRANDT, CameraModel
from camera_service.sources.url_mjpeg import HttpJpegStream

from fake_cameras.board_camera import BoardCamera, default_model
from fake_cameras.board_render import CHARUCO, BoardSpec

TOLERANCE = 0.005  # fx, fy, cx, cy within 0.5 % of the rendering model
CALIBRATE_BOARD = Board(9, 6, 0.025)  # the calibrate tool's defaults


@pytest.fixture(scope="module")
def pinhole_camera() -> BoardCamera:
    return BoardCamera(default_model("pinhole"))


@pytest.fixture(scope="module")
def fisheye_camera() -> BoardCamera:
    return BoardCamera(default_model("fisheye"))


def _relative_errors(found: CameraModel, truth: CameraModel) -> dict:
    errors = {name: abs(getattr(found, name) - getattr(truth, name)) / getattr(truth, name)
              for name in ("fx", "fy", "cx", "cy")}
    print(f"found {found.describe()}\ntruth {truth.describe()}\nrelative errors:",
          {k: f"{v:.4%}" for k, v in errors.items()})
    return errors


def _matched(detected: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distances detected-true per corner; a 9x6 board read the other way round (180
    degrees: its corners are symmetric) is matched reversed."""
    straight = np.linalg.norm(detected - truth, axis=1)
    reversed_ = np.linalg.norm(detected - truth[::-1], axis=1)
    return straight if straight.mean() < reversed_.mean() else reversed_


def _calibrate(camera: BoardCamera, model: str):
    views = ViewSet(CALIBRATE_BOARD, camera.model.size)
    for index in range(len(camera.poses)):
        views.offer(camera.frame(index))
    return views, solve(views, model)


def test_defaults_match_the_calibrate_tool(pinhole_camera):
    args_board = pinhole_camera.board
    assert (args_board.columns, args_board.rows, args_board.square) == (9, 6, 0.025)
    assert np.allclose(args_board.inner_corners(), CALIBRATE_BOARD.object_points())


def test_corners_are_where_the_model_projects_them(pinhole_camera, fisheye_camera):
    for camera in (pinhole_camera, fisheye_camera):
        for index in range(0, len(camera.poses), 3):
            detected = find_corners(camera.frame(index), CALIBRATE_BOARD)
            assert detected is not None, f"no board found in frame {index}"
            distances = _matched(detected, camera.corners(index))
            assert distances.mean() < 0.15 and distances.max() < 0.3, (index, distances.max())


def test_calibration_gives_back_the_pinhole_model(pinhole_camera):
    views, solution = _calibrate(pinhole_camera, BROWN_CONRADY)
    print(f"{len(views.corners)} views, coverage {views.coverage():.0%}, "
          f"RMS {solution.rms:.3f} px")
    assert len(views.corners) >= 20 and views.coverage() == 1.0
    assert solution.rms < 0.15
    assert max(_relative_errors(solution.model, pinhole_camera.model).values()) < TOLERANCE
    assert np.allclose(solution.model.coefficients[:2], pinhole_camera.model.coefficients[:2],
                       atol=0.01)


def test_calibration_gives_back_the_fisheye_model(fisheye_camera):
    views, solution = _calibrate(fisheye_camera, KANNALA_BRANDT)
    print(f"{len(views.corners)} views, coverage {views.coverage():.0%}, "
          f"RMS {solution.rms:.3f} px")
    assert len(views.corners) >= 20 and views.coverage() >= 0.9
    assert solution.rms < 0.15
    assert max(_relative_errors(solution.model, fisheye_camera.model).values()) < TOLERANCE
    assert np.allclose(solution.model.coefficients, fisheye_camera.model.coefficients,
                       atol=0.005)


def test_charuco_corners_are_found_in_most_views():
    camera = BoardCamera(default_model("pinhole"), BoardSpec(CHARUCO), poses=12)
    detector = cv2.aruco.CharucoDetector(camera.board.charuco_board())
    total = camera.board.columns * camera.board.rows
    well_seen = 0
    for index in range(len(camera.poses)):
        corners, ids, _, _ = detector.detectBoard(camera.frame(index))
        if ids is None:
            continue
        truth = camera.corners(index)[ids.ravel()]
        distances = np.linalg.norm(corners.reshape(-1, 2) - truth, axis=1)
        assert distances.max() < 1.0, (index, distances.max())  # ids are the right corners
        well_seen += len(ids) >= 0.9 * total
    print(f"ChArUco: {well_seen}/{len(camera.poses)} views with >= 90 % of the corners")
    assert well_seen >= 0.8 * len(camera.poses)


def test_the_stream_carries_the_frames():
    camera = BoardCamera(default_model("pinhole", 640, 360), poses=6)
    with camera.serve(fps=20) as server:
        stream = HttpJpegStream(server.url, timeout=5)
        try:
            for _ in range(3):
                jpeg = stream.next_jpeg()
                sequence = server.sequence_of(jpeg)
                assert sequence is not None
                image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
                difference = np.abs(image.astype(int) - camera.frame(sequence - 1))
                assert difference.mean() < 2.0
                detected = find_corners(image, CALIBRATE_BOARD)
                assert detected is not None
                assert _matched(detected, camera.corners(sequence - 1)).mean() < 0.3
        finally:
            stream.close()


def test_the_written_model_reads_back(tmp_path, fisheye_camera):
    path = tmp_path / "truth.yaml"
    fisheye_camera.write_model(str(path))
    read = read_calibration(str(path))
    assert read.model == KANNALA_BRANDT and read.size == fisheye_camera.model.size
    assert np.allclose([read.fx, read.fy, read.cx, read.cy, *read.coefficients],
                       [fisheye_camera.model.fx, fisheye_camera.model.fy,
                        fisheye_camera.model.cx, fisheye_camera.model.cy,
                        *fisheye_camera.model.coefficients])


def test_calibrate_command_through_a_url_source(tmp_path):
    """``python -m camera_service.calibrate --config`` with a ``url`` source: no robot."""
    camera = BoardCamera(default_model("pinhole", 960, 540), poses=16)
    with camera.serve(fps=20) as server:
        config = tmp_path / "config.yaml"
        config.write_text(f"sources:\n  - name: board\n    type: url\n    url: {server.url}\n")
        output = tmp_path / "board.yaml"
        out = io.StringIO()
        status = calibrate_main(["--config", str(config), "--source", "board", "--output",
                                 str(output), "--views", "12", "--timeout", "60"], out)
    assert status == 0, out.getvalue()
    errors = _relative_errors(read_calibration(str(output)), camera.model)
    assert max(errors.values()) < TOLERANCE


def test_calibrate_command_with_url_and_charuco(tmp_path):
    """``python -m camera_service.calibrate --url`` (no config file) on a ChArUco board."""
    camera = BoardCamera(default_model("pinhole", 960, 540), BoardSpec(CHARUCO), poses=24)
    with camera.serve(fps=20) as server:
        output = tmp_path / "found.yaml"
        out = io.StringIO()
        status = calibrate_main(["--url", server.url, "--pattern", "charuco", "--output",
                                 str(output), "--views", "15", "--timeout", "120"], out)
    assert status == 0, out.getvalue()
    assert "source 'camera' of --url" in out.getvalue()
    errors = _relative_errors(read_calibration(str(output)), camera.model)
    assert max(errors.values()) < TOLERANCE, errors


def test_calibrate_help_has_the_board_camera_recipe():
    result = subprocess.run([sys.executable, "-m", "camera_service.calibrate", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert "python -m fake_cameras.board_camera" in result.stdout
    assert "--url http://127.0.0.1:8090/stream.mjpg" in result.stdout


def test_calibrate_needs_a_source_name_without_url(tmp_path):
    result = subprocess.run([sys.executable, "-m", "camera_service.calibrate", "--service",
                             "127.0.0.1:1", "--output", str(tmp_path / "x.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--source is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_command_line_prints_the_url_and_model_and_writes_it(tmp_path):
    truth = tmp_path / "truth.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_cameras.board_camera", "--port", "0", "--size", "320x240",
         "--fx", "250", "--k1", "-0.1", "--poses", "3", "--write-model", str(truth)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = process.stdout.readline()
        match = re.search(r"ready: (http://127\.0\.0\.1:\d+/stream\.mjpg)", ready)
        assert match, ready + process.stderr.read()
        model_line = process.stdout.readline()
        assert model_line.startswith("model: pinhole_brown_conrady 320x240 fx=250.00")
        assert "k1=-0.1" in model_line
        assert "--board 9x6 --square 0.025" in process.stdout.readline()
        snapshot = match.group(1).replace("/stream.mjpg", "/snapshot.jpg")
        with urllib.request.urlopen(snapshot, timeout=10) as response:
            image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (240, 320, 3)
        written = read_calibration(str(truth))
        assert written.fx == 250.0 and written.coefficients[0] == -0.1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize("argv, message", [
    (["--model", "fisheye", "--p1", "0.01"], "--p1 is not a coefficient of the fisheye model"),
    (["--size", "1280"], "is not WIDTHxHEIGHT"),
    (["--fx", "-3"], "focal lengths must be positive"),
])
def test_command_line_refuses_bad_flags_in_one_line(argv, message):
    result = subprocess.run([sys.executable, "-m", "fake_cameras.board_camera", *argv],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
