"""OpenCV's calibration on kept views, to a ``CameraModel`` and its reprojection errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import cv2
import numpy as np

from camera_service.calibrate.views import ViewSet
from camera_service.geometry.camera_model import BROWN_CONRADY, KANNALA_BRANDT, CameraModel

MIN_VIEWS = 5


class SolveError(RuntimeError):
    """OpenCV could not calibrate from these views (one line, with what to do)."""


@dataclass(frozen=True)
class Solution:
    """The calibrated model, the RMS reprojection error (pixels) over all corners and the
    RMS error of each view (a bad view stands out)."""

    model: CameraModel
    rms: float
    per_view: List[float]


def solve(views: ViewSet, model: str = BROWN_CONRADY) -> Solution:
    """Calibrate ``model`` (Brown-Conrady: k1 k2 p1 p2 k3; Kannala-Brandt: k1..k4)."""
    if len(views.corners) < MIN_VIEWS:
        raise SolveError(f"{len(views.corners)} views are too few; show the board in at least "
                         f"{MIN_VIEWS} places")
    # shapes (1, N, 3) / (1, N, 2): what cv2.fisheye.calibrate accepts (and projectPoints);
    # each view its own corners (a ChArUco view holds the corners found, by id)
    objects = [points.reshape(1, -1, 3).astype(np.float64) for points in views.object_points()]
    images = [c.reshape(1, -1, 2).astype(np.float64) for c in views.corners]
    try:
        if model == KANNALA_BRANDT:
            # OpenCV 5 moved the fisheye flags from cv2.fisheye to cv2
            flags = (getattr(cv2.fisheye, "CALIB_RECOMPUTE_EXTRINSIC", None) or
                     cv2.CALIB_RECOMPUTE_EXTRINSIC) | (
                         getattr(cv2.fisheye, "CALIB_FIX_SKEW", None) or cv2.CALIB_FIX_SKEW)
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-9)
            _, matrix, coefficients, rvecs, tvecs = cv2.fisheye.calibrate(
                objects, images, views.size, np.eye(3), np.zeros(4), flags=flags,
                criteria=criteria)
        else:
            _, matrix, coefficients, rvecs, tvecs = cv2.calibrateCamera(
                [o.reshape(-1, 3).astype(np.float32) for o in objects],
                [i.reshape(-1, 2).astype(np.float32) for i in images], views.size, None, None)
    except cv2.error as err:
        reason = str(err).strip().splitlines()[-1]
        raise SolveError(f"OpenCV could not calibrate from these views ({reason}); take "
                         "views with the board flatter and fully in the image") from None
    width, height = views.size
    result = CameraModel(width, height, float(matrix[0, 0]), float(matrix[1, 1]),
                         float(matrix[0, 2]), float(matrix[1, 2]), model,
                         tuple(float(c) for c in np.ravel(coefficients)[:5 if model ==
                                                                        BROWN_CONRADY else 4]))
    errors, squares = [], 0.0
    for obj, img, rvec, tvec in zip(objects, images, rvecs, tvecs):
        if model == KANNALA_BRANDT:
            projected, _ = cv2.fisheye.projectPoints(obj, rvec, tvec, matrix, coefficients)
        else:
            projected, _ = cv2.projectPoints(obj, rvec, tvec, matrix, coefficients)
        residual = np.sum((projected.reshape(-1, 2) - img.reshape(-1, 2)) ** 2, axis=1)
        errors.append(float(np.sqrt(residual.mean())))
        squares += float(residual.sum())
    rms = float(np.sqrt(squares / sum(len(c) for c in views.corners)))
    return Solution(result, rms, errors)
