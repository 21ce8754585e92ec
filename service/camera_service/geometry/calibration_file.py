"""Calibration files people already have, read into a ``CameraModel``; and the writer.

Read (``read_calibration``):
- OpenCV ``FileStorage`` YAML or XML (what ``cv2.calibrateCamera`` users and OpenCV's
  calibration sample save): ``camera_matrix``, ``distortion_coefficients``, ``image_width``,
  ``image_height``; the model is Kannala-Brandt when ``distortion_model`` says
  ``fisheye``/``equidistant``/``kannala_brandt`` or ``fisheye_model`` is non-zero, else
  Brown-Conrady (pinhole when there are no coefficients).
- ROS ``camera_info`` YAML (``camera_calibration_parsers`` format: ``image_width``,
  ``camera_matrix: {data}``, ``distortion_model``, ``distortion_coefficients: {data}``), and
  the message form (``width``, ``height``, ``K``, ``D``, ``distortion_model``).

Every problem is a ``CalibrationFileError``: one line naming the file, what is wrong and the
fix. Written (``write_calibration``): OpenCV YAML, which the service reads back.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Sequence

import yaml

from camera_service.geometry.camera_model import (
    BROWN_CONRADY,
    KANNALA_BRANDT,
    PINHOLE,
    CameraModel,
    ModelError,
    model_name,
)


class CalibrationFileError(ValueError):
    """The calibration file cannot be used; the message names the file and the fix."""


def read_calibration(path: str) -> CameraModel:
    """The camera model stored in ``path`` (OpenCV YAML/XML or ROS camera_info YAML)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace").lstrip()
    except OSError as err:
        raise CalibrationFileError(f"cannot read calibration file {path}: "
                                   f"{err.strerror or err}") from None
    try:
        if head.startswith(("%YAML:1", "<?xml", "<opencv_storage")) or "opencv-matrix" in head:
            return _from_fields(_read_opencv(path), path)
        return _from_fields(_read_ros(path), path)
    except ModelError as err:
        raise CalibrationFileError(f"calibration file {path}: {err}") from None


# -- OpenCV FileStorage ------------------------------------------------------------------
def _read_opencv(path: str) -> Dict[str, Any]:
    import cv2

    try:
        storage = cv2.FileStorage(path, cv2.FILE_STORAGE_READ)
    except cv2.error:
        storage = None
    if storage is None or not storage.isOpened():
        raise CalibrationFileError(f"calibration file {path} is not an OpenCV YAML/XML file "
                                   "OpenCV can parse")
    try:
        fields: Dict[str, Any] = {}
        for key in ("camera_matrix", "distortion_coefficients"):
            node = storage.getNode(key)
            if not node.empty():
                matrix = node.mat()
                fields[key] = [] if matrix is None else [float(v) for v in matrix.ravel()]
        for key in ("image_width", "image_height", "fisheye_model"):
            node = storage.getNode(key)
            if not node.empty():
                fields[key] = node.real()
        node = storage.getNode("distortion_model")
        if not node.empty():
            fields["distortion_model"] = node.string()
        if fields.get("fisheye_model") and "distortion_model" not in fields:
            fields["distortion_model"] = KANNALA_BRANDT
        return fields
    finally:
        storage.release()


# -- ROS camera_info ---------------------------------------------------------------------
def _read_ros(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError) as err:
        raise CalibrationFileError(f"cannot read calibration file {path}: {err}") from None
    except yaml.YAMLError:
        raise CalibrationFileError(f"calibration file {path} is neither OpenCV YAML/XML nor "
                                   "ROS camera_info YAML (it does not parse)") from None
    if not isinstance(data, dict):
        raise CalibrationFileError(f"calibration file {path} holds no camera_info mapping")
    if "K" in data or "k" in data:  # the sensor_msgs/CameraInfo message form
        return {"camera_matrix": data.get("K", data.get("k")),
                "distortion_coefficients": data.get("D", data.get("d")) or [],
                "image_width": data.get("width"), "image_height": data.get("height"),
                "distortion_model": data.get("distortion_model")}
    fields = dict(data)
    for key in ("camera_matrix", "distortion_coefficients"):
        if isinstance(fields.get(key), Mapping):
            fields[key] = fields[key].get("data")
    return fields


# -- common ------------------------------------------------------------------------------
def _numbers(value: Any, key: str, path: str) -> Sequence[float]:
    if value is None:
        return []
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise CalibrationFileError(f"calibration file {path}: {key} must be a list of "
                                   "numbers") from None


def _from_fields(fields: Dict[str, Any], path: str) -> CameraModel:
    matrix = _numbers(fields.get("camera_matrix"), "camera_matrix", path)
    if len(matrix) != 9:
        raise CalibrationFileError(f"calibration file {path} has no 3x3 camera_matrix "
                                   "(expected OpenCV's camera_matrix or ROS camera_info)")
    size = []
    for key in ("image_width", "image_height"):
        value = fields.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise CalibrationFileError(f"calibration file {path} has no {key}: the size it "
                                       "was calibrated at is needed to scale it")
        size.append(int(value))
    coefficients = _numbers(fields.get("distortion_coefficients"), "distortion_coefficients",
                            path)
    stated = fields.get("distortion_model")
    model = model_name(stated) if stated else PINHOLE
    if model == PINHOLE and any(coefficients):
        model = BROWN_CONRADY
    return CameraModel(size[0], size[1], fx=matrix[0], fy=matrix[4], cx=matrix[2],
                       cy=matrix[5], model=model, coefficients=tuple(coefficients),
                       skew=matrix[1])


def write_calibration(path: str, model: CameraModel,
                      extra: Mapping[str, float] | None = None) -> None:
    """Write ``model`` to ``path`` as OpenCV YAML (atomically), plus ``extra`` numbers
    (e.g. ``avg_reprojection_error``). ``read_calibration`` reads it back."""
    import cv2
    import numpy as np

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.yaml")
    storage = cv2.FileStorage(temporary, cv2.FILE_STORAGE_WRITE)
    try:
        storage.write("image_width", model.width)
        storage.write("image_height", model.height)
        storage.write("camera_matrix", model.camera_matrix())
        storage.write("distortion_model", model.model)
        storage.write("distortion_coefficients",
                      np.array(model.coefficients or (0.0,) * 5, dtype=np.float64).reshape(1, -1))
        for key, value in (extra or {}).items():
            storage.write(key, float(value))
    finally:
        storage.release()
    os.replace(temporary, path)
