"""Test helpers for camera geometry: the projection equations of the ImageSource camera
models written out from the proto's fields (independent of OpenCV and of the service), and
chessboard views rendered through a known camera (intrinsics + distortion)."""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from bosdyn.api import image_pb2


def project_with_source(source: image_pb2.ImageSource, points: np.ndarray) -> np.ndarray:
    """Pixels of ``points`` (N x 3, camera optical frame) through the source's camera model,
    from the proto fields alone."""
    which = source.WhichOneof("camera_models")
    x, y = points[:, 0] / points[:, 2], points[:, 1] / points[:, 2]
    if which == "pinhole":
        base = source.pinhole.intrinsics
        xd, yd = x, y
    elif which == "pinhole_brown_conrady":
        m = source.pinhole_brown_conrady.intrinsics
        base = m.pinhole_intrinsics
        r2 = x * x + y * y
        radial = 1 + m.k1 * r2 + m.k2 * r2 ** 2 + m.k3 * r2 ** 3
        xd = x * radial + 2 * m.p1 * x * y + m.p2 * (r2 + 2 * x * x)
        yd = y * radial + m.p1 * (r2 + 2 * y * y) + 2 * m.p2 * x * y
    elif which == "kannala_brandt":
        m = source.kannala_brandt.intrinsics
        base = m.pinhole_intrinsics
        r = np.sqrt(x * x + y * y)
        theta = np.arctan(r)
        theta_d = theta * (1 + m.k1 * theta ** 2 + m.k2 * theta ** 4 + m.k3 * theta ** 6
                           + m.k4 * theta ** 8)
        scale = np.where(r > 1e-12, theta_d / np.maximum(r, 1e-12), 1.0)
        xd, yd = x * scale, y * scale
    else:
        raise AssertionError(f"source {source.name!r} has no camera model")
    fx, fy = base.focal_length.x, base.focal_length.y
    cx, cy = base.principal_point.x, base.principal_point.y
    return np.stack([fx * xd + base.skew.x * yd + cx, fy * yd + cy], axis=1)


def opencv_project(points: np.ndarray, matrix: np.ndarray, coefficients: Sequence[float],
                   fisheye: bool) -> np.ndarray:
    """OpenCV's own projection of camera-frame ``points`` (the reference)."""
    zero = np.zeros(3)
    if fisheye:
        pixels, _ = cv2.fisheye.projectPoints(points.reshape(-1, 1, 3), zero, zero, matrix,
                                              np.array(coefficients, dtype=np.float64))
    else:
        pixels, _ = cv2.projectPoints(points.reshape(-1, 1, 3), zero, zero, matrix,
                                      np.array(coefficients, dtype=np.float64))
    return pixels.reshape(-1, 2)


def points_in_view(count: int = 200, seed: int = 1, half_angle_deg: float = 35.0
                   ) -> np.ndarray:
    """``count`` 3-D points in front of a camera, within ``half_angle_deg`` of its axis."""
    rng = np.random.default_rng(seed)
    limit = math.tan(math.radians(half_angle_deg))
    xy = rng.uniform(-limit, limit, size=(count, 2))
    depth = rng.uniform(0.5, 5.0, size=count)
    return np.column_stack([xy[:, 0] * depth, xy[:, 1] * depth, depth])


# -- chessboard views -------------------------------------------------------------------
def board_texture(columns: int, rows: int, pixels_per_square: int = 64) -> np.ndarray:
    """A chessboard of ``columns`` x ``rows`` squares with a one-square white margin
    (grey, uint8); inner corners: (columns - 1) x (rows - 1)."""
    squares = np.indices((rows + 2, columns + 2)).sum(axis=0) % 2
    squares[0, :] = squares[-1, :] = squares[:, 0] = squares[:, -1] = 1
    texture = np.kron(squares, np.ones((pixels_per_square, pixels_per_square)))
    return (texture * 255).astype(np.uint8)


def board_poses(count: int, seed: int = 3) -> List[Tuple[np.ndarray, np.ndarray]]:
    """``count`` varied board poses (rvec, tvec) in front of the camera (board ~0.3 m)."""
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(count):
        tilt = rng.uniform(-0.5, 0.5, size=2)
        spin = rng.uniform(-0.3, 0.3)
        rvec = np.array([tilt[0], tilt[1], spin])
        offset = rng.uniform(-0.12, 0.12, size=2)
        tvec = np.array([offset[0] - 0.13, offset[1] - 0.09, rng.uniform(0.45, 0.7)])
        poses.append((rvec, tvec))
    return poses


def render_view(width: int, height: int, matrix: np.ndarray, coefficients: Sequence[float],
                fisheye: bool, rvec: np.ndarray, tvec: np.ndarray, columns: int = 10,
                rows: int = 7, square: float = 0.03, pixels_per_square: int = 64
                ) -> np.ndarray:
    """The chessboard at pose (rvec, tvec) as the camera sees it (grey image). Board frame:
    origin at the outer corner of the first square, x along columns, y along rows, metres."""
    texture = board_texture(columns, rows, pixels_per_square)
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    pixels = np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)
    coeffs = np.array(coefficients, dtype=np.float64)
    if fisheye:
        rays = cv2.fisheye.undistortPoints(pixels, matrix, coeffs).reshape(-1, 2)
    else:
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-9)
        if hasattr(cv2, "undistortPointsIter"):  # OpenCV 4 (the image's)
            rays = cv2.undistortPointsIter(pixels, matrix, coeffs, None, None, criteria)
        else:  # OpenCV 5 folded the criteria into undistortPoints
            rays = cv2.undistortPoints(pixels, matrix, coeffs, None, None, None, criteria)
        rays = rays.reshape(-1, 2)
    rotation, _ = cv2.Rodrigues(rvec)
    # ray d = (x, y, 1); board plane: points p = t + R @ (bx, by, 0)
    normal = rotation[:, 2]
    directions = np.column_stack([rays, np.ones(len(rays))])
    distance = (normal @ tvec) / (directions @ normal)
    hits = directions * distance[:, None] - tvec
    board = hits @ rotation  # board coordinates (bx, by, ~0)
    scale = pixels_per_square / square
    # texture pixel centres sit at integer coordinates: a square's edge is at k*pps - 0.5
    map_x = (board[:, 0] * scale + pixels_per_square - 0.5).reshape(height, width)
    map_y = (board[:, 1] * scale + pixels_per_square - 0.5).reshape(height, width)
    behind = (distance <= 0).reshape(height, width)
    image = cv2.remap(cv2.GaussianBlur(texture, (0, 0), pixels_per_square / 40),
                      map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=200)
    image[behind] = 200
    return image


def inner_corners(columns: int = 10, rows: int = 7, square: float = 0.03) -> np.ndarray:
    """Board-frame positions of the inner corners, row by row (what
    ``findChessboardCorners`` returns, in its order for an upright board)."""
    return np.array([[(c + 1) * square, (r + 1) * square, 0.0]
                     for r in range(rows - 1) for c in range(columns - 1)])


def write_video(path: str, frames: Sequence[np.ndarray], fps: float = 5.0) -> None:
    """``frames`` (grey) as an MJPG .avi at high quality (the file source plays it)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()


def same_pose(a, b, tolerance: float = 1e-6) -> bool:
    """True when two ``math_helpers.SE3Pose`` are the same pose (q and -q alike)."""
    qa, qb = a.rotation, b.rotation
    dot = qa.w * qb.w + qa.x * qb.x + qa.y * qb.y + qa.z * qb.z
    return (abs(a.x - b.x) + abs(a.y - b.y) + abs(a.z - b.z) < tolerance and
            abs(abs(dot) - 1) < tolerance)
