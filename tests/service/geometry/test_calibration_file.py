"""Calibration files: OpenCV YAML/XML and ROS camera_info read; our writer read back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.geometry.calibration_file import (
    CalibrationFileError,
    read_calibration,
    write_calibration,
)
from camera_service.geometry.camera_model import BROWN_CONRADY, KANNALA_BRANDT, CameraModel

K = np.array([[612.5, 0.0, 321.25], [0.0, 610.75, 238.5], [0.0, 0.0, 1.0]])
D = np.array([[-0.31, 0.11, 0.0012, -0.0007, -0.02]])


def _opencv_file(path, distortion=D, **extra):
    """A file as OpenCV users write it (``cv2.FileStorage``, by extension YAML or XML)."""
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    storage.write("image_width", 640)
    storage.write("image_height", 480)
    storage.write("camera_matrix", K)
    storage.write("distortion_coefficients", distortion)
    for key, value in extra.items():
        storage.write(key, value)
    storage.release()
    return str(path)


@pytest.mark.parametrize("suffix", ["yaml", "xml"])
def test_opencv_files(tmp_path, suffix):
    model = read_calibration(_opencv_file(tmp_path / f"cam.{suffix}"))
    assert (model.width, model.height, model.model) == (640, 480, BROWN_CONRADY)
    assert (model.fx, model.fy, model.cx, model.cy) == (612.5, 610.75, 321.25, 238.5)
    assert model.coefficients == tuple(D.ravel())


def test_opencv_fisheye_flag(tmp_path):
    path = _opencv_file(tmp_path / "fish.yaml", distortion=np.array([[0.1, -0.02, 0.003, 0.0]]),
                        fisheye_model=1)
    model = read_calibration(path)
    assert model.model == KANNALA_BRANDT and model.coefficients == (0.1, -0.02, 0.003, 0.0)


ROS_YAML = """\
image_width: 1280
image_height: 720
camera_name: front
camera_matrix:
  rows: 3
  cols: 3
  data: [910.0, 0.0, 640.5, 0.0, 905.0, 360.25, 0.0, 0.0, 1.0]
distortion_model: {model}
distortion_coefficients:
  rows: 1
  cols: {count}
  data: {coefficients}
rectification_matrix:
  rows: 3
  cols: 3
  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]
projection_matrix:
  rows: 3
  cols: 4
  data: [910.0, 0.0, 640.5, 0.0, 0.0, 905.0, 360.25, 0.0, 0.0, 0.0, 1.0, 0.0]
"""


@pytest.mark.parametrize("ros_model, coefficients, expected", [
    ("plumb_bob", [-0.2, 0.05, 0.001, 0.002, 0.0], BROWN_CONRADY),
    ("equidistant", [0.1, -0.01, 0.002, -0.0005], KANNALA_BRANDT),
])
def test_ros_camera_info(tmp_path, ros_model, coefficients, expected):
    path = tmp_path / "front.yaml"
    path.write_text(ROS_YAML.format(model=ros_model, count=len(coefficients),
                                    coefficients=coefficients))
    model = read_calibration(str(path))
    assert (model.width, model.height, model.model) == (1280, 720, expected)
    assert (model.fx, model.fy, model.cx, model.cy) == (910.0, 905.0, 640.5, 360.25)
    assert model.coefficients == tuple(coefficients)


def test_ros_message_form(tmp_path):
    path = tmp_path / "info.yaml"
    path.write_text("height: 480\nwidth: 640\ndistortion_model: plumb_bob\n"
                    "D: [0.1, 0.0, 0.0, 0.0, 0.0]\n"
                    "K: [500.0, 0.0, 320.0, 0.0, 501.0, 240.0, 0.0, 0.0, 1.0]\n")
    model = read_calibration(str(path))
    assert (model.fx, model.fy, model.width) == (500.0, 501.0, 640)


def test_written_file_reads_back(tmp_path):
    model = CameraModel(800, 600, 700.125, 699.5, 401.0, 299.25, KANNALA_BRANDT,
                        (0.1, 0.01, -0.002, 0.0003))
    path = tmp_path / "out" / "cam.yaml"
    write_calibration(str(path), model, {"avg_reprojection_error": 0.12})
    assert read_calibration(str(path)) == model
    assert "avg_reprojection_error" in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["cam.yaml"]  # no temporary left


@pytest.mark.parametrize("content, needle", [
    ("camera_matrix: {data: [1, 2, 3]}\nimage_width: 640\nimage_height: 480\n",
     "no 3x3 camera_matrix"),
    ("K: [500, 0, 320, 0, 500, 240, 0, 0, 1]\n", "no image_width"),
    ("just: [unbalanced\n", "does not parse"),
    ("- a list\n", "no camera_info mapping"),
    ("image_width: 640\nimage_height: 480\ndistortion_model: mei\n"
     "camera_matrix: {data: [500, 0, 320, 0, 500, 240, 0, 0, 1]}\n", "unknown camera model"),
])
def test_bad_files_one_line(tmp_path, content, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(CalibrationFileError) as raised:
        read_calibration(str(path))
    assert needle in str(raised.value) and str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(CalibrationFileError, match="cannot read calibration file"):
        read_calibration(str(tmp_path / "absent.yaml"))
