"""Render a calibration board (chessboard or ChArUco) through a known camera model.

The camera model is the service's ``CameraModel`` (pinhole with Brown-Conrady ``k1 k2 p1 p2
k3``, or Kannala-Brandt ``k1..k4``), with OpenCV's conventions: pixel (0, 0) is the centre of
the top-left pixel. Rendering is by inverse mapping: every output pixel (sampled
``supersample`` x ``supersample`` times for anti-aliasing) is turned into its viewing ray once
per camera (OpenCV's iterative undistortion, each ray checked by projecting it again); per
pose each ray is intersected with the board plane and the board's texture is sampled there
(``cv2.remap``), then the samples of a pixel are averaged. The board's corners in the image
are therefore where ``cv2.projectPoints`` / ``cv2.fisheye.projectPoints`` put them, to a small
fraction of a pixel.

Board frame (metres): origin at the first inner corner, x along the columns, y along the rows,
z into the board (the camera looks at its front from negative z). The inner corners sit at
``(c * square, r * square, 0)``: the points of ``camera_service.calibrate.views.Board``.

``board_poses`` makes a deterministic sequence of varied poses (tilts, distances, positions
across the image) with the whole board, margin included, inside the image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np
from camera_service.geometry.camera_model import KANNALA_BRANDT, CameraModel

CHESSBOARD, CHARUCO = "chessboard", "charuco"
BOARD_KINDS = (CHESSBOARD, CHARUCO)
BACKGROUND = 128  # grey around the board
#: A ray is used when projecting it again lands within this many pixels of its pixel.
RAY_TOLERANCE = 0.01

Pose = Tuple[np.ndarray, np.ndarray]  # (rvec, tvec): board frame -> camera frame


@dataclass(frozen=True)
class BoardSpec:
    """A board with ``columns`` x ``rows`` inner corners (squares: one more each way) of
    ``square`` metres, white ``margin`` squares wide around it. ChArUco boards carry
    ``dictionary`` markers of ``marker`` x ``square`` in the white squares."""

    kind: str = CHESSBOARD
    columns: int = 9
    rows: int = 6
    square: float = 0.025
    margin: float = 1.0
    marker: float = 0.75
    dictionary: int = cv2.aruco.DICT_4X4_50

    def __post_init__(self) -> None:
        if self.kind not in BOARD_KINDS:
            raise ValueError(f"unknown board {self.kind!r}; use chessboard or charuco")
        if min(self.columns, self.rows) < 2 or self.square <= 0:
            raise ValueError("a board needs at least 2x2 inner corners and a positive square")

    @property
    def squares(self) -> Tuple[int, int]:
        """Squares across and down."""
        return self.columns + 1, self.rows + 1

    def inner_corners(self) -> np.ndarray:
        """Inner corners, ``(columns * rows, 3)``, row by row (``findChessboardCorners``
        order for an upright board; also the ChArUco corner ids' order)."""
        grid = np.zeros((self.rows * self.columns, 3), np.float64)
        grid[:, :2] = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2) * self.square
        return grid

    def outline(self, per_edge: int = 12) -> np.ndarray:
        """Points along the outer edge of the board, margin included (board frame)."""
        lo = -(1.0 + self.margin) * self.square
        hi_x = (self.columns + self.margin) * self.square
        hi_y = (self.rows + self.margin) * self.square
        steps = np.linspace(0.0, 1.0, per_edge, endpoint=False)
        corners = [(lo, lo), (hi_x, lo), (hi_x, hi_y), (lo, hi_y), (lo, lo)]
        points = [(a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, 0.0)
                  for a, b in zip(corners, corners[1:]) for s in steps]
        return np.array(points, np.float64)

    def charuco_board(self):
        """OpenCV's ``CharucoBoard`` for this board (its origin: the board's outer corner)."""
        dictionary = cv2.aruco.getPredefinedDictionary(self.dictionary)
        return cv2.aruco.CharucoBoard(self.squares, self.square, self.marker * self.square,
                                      dictionary)

    def texture(self, pixels_per_square: int) -> np.ndarray:
        """The printed board, grey uint8, margin included; pixel centres at integers, the
        board's outer edge (margin included) at -0.5."""
        across, down = self.squares
        pps = pixels_per_square
        if self.kind == CHARUCO:
            board = self.charuco_board().generateImage((across * pps, down * pps), marginSize=0,
                                                       borderBits=1)
        else:
            parity = np.indices((down, across)).sum(axis=0) % 2
            board = (np.kron(parity, np.ones((pps, pps))) * 255).astype(np.uint8)
        pad = round(self.margin * pps)
        return cv2.copyMakeBorder(board, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _pixel_grid(width: int, height: int, supersample: int) -> np.ndarray:
    """Sample positions (pixel coordinates), ``(height * s * width * s, 1, 2)``: ``s`` x ``s``
    evenly spread inside each pixel, row-major in the supersampled image."""
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    xs = (np.arange(width)[:, None] + offsets[None, :]).ravel()
    ys = (np.arange(height)[:, None] + offsets[None, :]).ravel()
    u, v = np.meshgrid(xs, ys)
    return np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)


def project(model: CameraModel, points: np.ndarray, pose: Pose) -> np.ndarray:
    """Board-frame ``points`` (N x 3) at ``pose`` in the image, N x 2 (OpenCV projection)."""
    rvec, tvec = pose
    coefficients = np.array(model.coefficients or (0.0,) * 5, np.float64)
    if model.model == KANNALA_BRANDT:
        image, _ = cv2.fisheye.projectPoints(points.reshape(1, -1, 3), rvec, tvec,
                                             model.camera_matrix(), coefficients)
    else:
        image, _ = cv2.projectPoints(points.reshape(-1, 3), rvec, tvec, model.camera_matrix(),
                                     coefficients)
    return image.reshape(-1, 2)


def pixel_rays(model: CameraModel, pixels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Normalised rays ``(x, y)`` (z = 1) of ``pixels`` (N x 1 x 2), and which are valid
    (projecting the ray again lands within ``RAY_TOLERANCE`` px of the pixel)."""
    matrix = model.camera_matrix()
    coefficients = np.array(model.coefficients or (0.0,) * 5, np.float64)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-6)
    if model.model == KANNALA_BRANDT:
        rays = cv2.fisheye.undistortPoints(pixels, matrix, coefficients, criteria=criteria)
    elif hasattr(cv2, "undistortPointsIter"):  # OpenCV 4 builds that have it
        rays = cv2.undistortPointsIter(pixels, matrix, coefficients, None, None, criteria)
    else:  # OpenCV 4.10 / 5: undistortPoints takes the criteria
        rays = cv2.undistortPoints(pixels, matrix, coefficients, None, None, None, criteria)
    rays = rays.reshape(-1, 2)
    homogeneous = np.column_stack([rays, np.ones(len(rays))])
    again = project(model, homogeneous, (np.zeros(3), np.zeros(3)))
    error = np.linalg.norm(again.reshape(-1, 2) - pixels.reshape(-1, 2), axis=1)
    valid = np.isfinite(error) & (error < RAY_TOLERANCE)
    return rays, valid


@functools.lru_cache(maxsize=2)
def _sample_rays(model: CameraModel, supersample: int
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray x, ray y and validity of every sample of a camera (the costly part of a renderer:
    about a second at 1280x720, so renderers of one camera share them; read-only)."""
    rays, valid = pixel_rays(model, _pixel_grid(model.width, model.height, supersample))
    arrays = (np.ascontiguousarray(rays[:, 0]), np.ascontiguousarray(rays[:, 1]), valid)
    for array in arrays:
        array.setflags(write=False)
    return arrays


class BoardRenderer:
    """Renders ``board`` as seen by a camera of ``model`` (grey uint8 images).

    The rays of every sample are computed once per camera; ``render`` costs a plane intersection
    and a ``remap`` per pose. ``blur`` (pixels, Gaussian sigma) softens the result like a
    lens; ``noise`` adds Gaussian sensor noise (grey levels) from ``noise_seed``.
    """

    def __init__(self, model: CameraModel, board: BoardSpec, supersample: int = 2,
                 pixels_per_square: int = 96, blur: float = 0.5, noise: float = 0.0) -> None:
        self.model, self.board = model, board
        self.supersample, self.blur, self.noise = supersample, blur, noise
        self.pixels_per_square = pixels_per_square
        self._texture = board.texture(pixels_per_square)
        self._rays_x, self._rays_y, self._valid = _sample_rays(model, supersample)

    def render(self, pose: Pose, noise_seed: int = 0) -> np.ndarray:
        """The board at ``pose`` (rvec, tvec: board frame -> camera frame), ``height x
        width`` grey uint8."""
        rvec, tvec = (np.asarray(v, np.float64).reshape(3) for v in pose)
        rotation, _ = cv2.Rodrigues(rvec)
        normal = rotation[:, 2]
        # ray d = (x, y, 1) meets the plane {t + R (bx, by, 0)} at distance n.t / n.d
        facing = self._rays_x * normal[0] + self._rays_y * normal[1] + normal[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            depth = float(normal @ tvec) / facing
        hx = self._rays_x * depth - tvec[0]
        hy = self._rays_y * depth - tvec[1]
        hz = depth - tvec[2]
        bx = hx * rotation[0, 0] + hy * rotation[1, 0] + hz * rotation[2, 0]
        by = hx * rotation[0, 1] + hy * rotation[1, 1] + hz * rotation[2, 1]
        scale = self.pixels_per_square / self.board.square
        origin = (1.0 + self.board.margin) * self.pixels_per_square - 0.5
        map_x = bx * scale + origin
        map_y = by * scale + origin
        hidden = ~self._valid | ~(depth > 0) | ~np.isfinite(map_x) | ~np.isfinite(map_y)
        map_x[hidden] = -1e6
        map_y[hidden] = -1e6
        side = self.supersample
        shape = (self.model.height * side, self.model.width * side)
        samples = cv2.remap(self._texture, map_x.reshape(shape).astype(np.float32),
                            map_y.reshape(shape).astype(np.float32), cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND)
        image = samples.astype(np.float32)
        if side > 1:
            image = cv2.resize(image, (self.model.width, self.model.height),
                               interpolation=cv2.INTER_AREA)
        if self.blur > 0:
            image = cv2.GaussianBlur(image, (0, 0), self.blur)
        if self.noise > 0:
            rng = np.random.default_rng(noise_seed)
            image = image + rng.normal(0.0, self.noise, image.shape).astype(np.float32)
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _ray_through(model: CameraModel, u: float, v: float) -> np.ndarray:
    """Unit ray of pixel (u, v)."""
    rays, _ = pixel_rays(model, np.array([[[u, v]]], np.float64))
    ray = np.array([rays[0, 0], rays[0, 1], 1.0])
    return ray / np.linalg.norm(ray)


def _facing(ray: np.ndarray) -> np.ndarray:
    """The rotation turning the board's z axis onto ``ray``: the board then faces the camera
    squarely wherever it is in the image (tilts are added to that)."""
    axis = np.cross([0.0, 0.0, 1.0], ray)
    length = float(np.linalg.norm(axis))
    if length < 1e-12:
        return np.eye(3)
    angle = math.atan2(length, float(ray[2]))
    return cv2.Rodrigues(axis / length * angle)[0]


def _inside(model: CameraModel, board: BoardSpec, pose: Pose, border: float) -> bool:
    """True when the board's outline is in front of the camera and ``border`` px inside the
    image."""
    rotation, _ = cv2.Rodrigues(pose[0])
    outline = board.outline()
    depth = (outline @ rotation.T + pose[1])[:, 2]
    if not (depth > 0.05).all():
        return False
    points = project(model, outline, pose)
    return bool(np.isfinite(points).all() and (points[:, 0] >= border).all() and
                (points[:, 1] >= border).all() and
                (points[:, 0] <= model.width - 1 - border).all() and
                (points[:, 1] <= model.height - 1 - border).all())


#: Where the board's centre goes, as fractions of the image, visited in this order so that
#: any run of consecutive views spreads over the image.
_TARGETS = [(0.5, 0.5), (0.2, 0.22), (0.8, 0.78), (0.8, 0.22), (0.2, 0.78), (0.5, 0.2),
            (0.5, 0.8), (0.18, 0.5), (0.82, 0.5)]


def board_poses(model: CameraModel, board: BoardSpec, count: int = 24, seed: int = 7,
                max_tilt_deg: float = 35.0, border: float = 4.0) -> List[Pose]:
    """``count`` varied poses with the whole board ``border`` px inside the image.

    Pose ``i`` aims the board's centre at a point of a 3x3 spread over the image (cycled),
    turns it to face the camera there, tilts it up to ``max_tilt_deg`` about both board axes,
    turns it up to 15 degrees in its plane and sizes it to 30-60 % of the image width,
    backing it off until it fits.
    Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    centre = np.array([(board.columns - 1) / 2 * board.square,
                       (board.rows - 1) / 2 * board.square, 0.0])
    across = (board.columns + 1 + 2 * board.margin) * board.square
    poses: List[Pose] = []
    for index in range(count):
        fx, fy = _TARGETS[index % len(_TARGETS)]
        jitter = rng.uniform(-0.04, 0.04, size=2)
        tilt = np.radians(rng.uniform(-max_tilt_deg, max_tilt_deg, size=2))
        if index % 3 == 0:  # some views face the camera more squarely
            tilt *= 0.4
        spin = math.radians(rng.uniform(-15.0, 15.0))
        share = rng.uniform(0.3, 0.6)
        ray = _ray_through(model, (fx + jitter[0]) * (model.width - 1),
                           (fy + jitter[1]) * (model.height - 1))
        rotation = (_facing(ray) @ cv2.Rodrigues(np.array([0.0, 0.0, spin]))[0] @
                    cv2.Rodrigues(np.array([tilt[0], 0.0, 0.0]))[0] @
                    cv2.Rodrigues(np.array([0.0, tilt[1], 0.0]))[0])
        rvec = cv2.Rodrigues(rotation)[0].reshape(3)
        distance = model.fx * across / (share * model.width)
        pose: Optional[Pose] = None
        for _ in range(60):
            candidate = (rvec, ray * distance - rotation @ centre)
            if _inside(model, board, candidate, border):
                pose = candidate
                break
            distance *= 1.06
        if pose is None:  # aimed too far out for this lens: use the image centre
            ray = _ray_through(model, (model.width - 1) / 2, (model.height - 1) / 2)
            distance = model.fx * across / (0.3 * model.width)
            for _ in range(200):
                if _inside(model, board, (rvec, ray * distance - rotation @ centre), border):
                    break
                distance *= 1.06
            else:
                raise ValueError(f"the board does not fit in the image of {model.describe()}")
            pose = (rvec, ray * distance - rotation @ centre)
        poses.append(pose)
    return poses
