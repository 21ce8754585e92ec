"""Board views: detection, which views to keep, and how much of the image they cover.

Two boards: a chessboard (``findChessboardCorners``: every inner corner or nothing) and a
ChArUco board (OpenCV's ``aruco.CharucoDetector``: the inner corners next to the markers
found, each with its id, so a partly hidden or cut board still gives a view). Either way a
detection is image corners with their ids (the index into ``Board.object_points()``).

A view is kept when the board is found and it sits elsewhere than every kept view (its
corners moved ``min_move`` pixels on average), so holding the board still does not fill the
set with copies. Coverage is the share of a ``GRID`` x ``GRID`` partition of the image that
holds a corner of some kept view: corners near the image border are what pins distortion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

GRID = 4
CHESSBOARD, CHARUCO = "chessboard", "charuco"
PATTERNS = (CHESSBOARD, CHARUCO)
MIN_CHARUCO_CORNERS = 6
_FIND_FLAGS = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
_SUBPIX = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


@dataclass(frozen=True)
class Board:
    """A board with ``columns`` x ``rows`` inner corners and ``square`` metres squares; a
    ChArUco board (``pattern``) carries ``dictionary`` markers ``marker`` x ``square``
    wide in its white squares (OpenCV's layout: ``columns + 1`` x ``rows + 1`` squares)."""

    columns: int
    rows: int
    square: float = 0.025
    pattern: str = CHESSBOARD
    marker: float = 0.75
    dictionary: str = "DICT_4X4_50"

    def object_points(self) -> np.ndarray:
        """Corner positions on the board (z = 0), in ``findChessboardCorners`` order (also
        the ChArUco corner ids' order)."""
        grid = np.zeros((self.rows * self.columns, 3), np.float32)
        grid[:, :2] = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2) * self.square
        return grid

    def charuco_detector(self):
        """OpenCV's ``CharucoDetector`` for this ChArUco board."""
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        board = cv2.aruco.CharucoBoard((self.columns + 1, self.rows + 1), self.square,
                                       self.marker * self.square, dictionary)
        return cv2.aruco.CharucoDetector(board)


def detect(image: np.ndarray, board: Board,
           detector=None) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``(corners N x 2, ids N)`` of the board in ``image`` (sub-pixel), or None when not
    found (a ChArUco board: fewer than ``MIN_CHARUCO_CORNERS`` corners)."""
    if board.pattern == CHARUCO:
        found, ids, _, _ = (detector or board.charuco_detector()).detectBoard(image)
        if ids is None or len(ids) < MIN_CHARUCO_CORNERS:
            return None
        return found.reshape(-1, 2).astype(np.float32), ids.reshape(-1).astype(np.int32)
    corners = find_corners(image, board)
    if corners is None:
        return None
    return corners, np.arange(len(corners), dtype=np.int32)


def find_corners(image: np.ndarray, board: Board) -> np.ndarray | None:
    """The chessboard's inner corners in ``image`` (N x 2, sub-pixel), or None when not
    found."""
    found, corners = cv2.findChessboardCorners(image, (board.columns, board.rows),
                                               flags=_FIND_FLAGS)
    if not found:
        return None
    corners = cv2.cornerSubPix(image, corners, (5, 5), (-1, -1), _SUBPIX)
    return corners.reshape(-1, 2)


def moved(kept: Tuple[np.ndarray, np.ndarray], corners: np.ndarray, ids: np.ndarray) -> float:
    """Mean distance (pixels) the corners both views share moved; infinite when they share
    too few to say."""
    common, here, there = np.intersect1d(ids, kept[1], return_indices=True)
    if len(common) < 4:
        return float("inf")
    return float(np.linalg.norm(kept[0][there] - corners[here], axis=1).mean())


@dataclass
class ViewSet:
    """The kept views of one calibration run, all of one image size."""

    board: Board
    size: Tuple[int, int]
    min_move: float = 15.0
    corners: List[np.ndarray] = field(default_factory=list)
    ids: List[np.ndarray] = field(default_factory=list)
    _charuco: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.corners):  # given corners alone: whole chessboards
            self.ids = [np.arange(len(c), dtype=np.int32) for c in self.corners]

    def offer(self, image: np.ndarray) -> str:
        """Try ``image``: ``"kept"``, ``"no board"``, ``"same place"`` or ``"size changed"``."""
        if (image.shape[1], image.shape[0]) != self.size:
            return "size changed"
        found = detect(image, self.board, self._detector())
        if found is None:
            return "no board"
        return self.keep(*found)

    def keep(self, corners: np.ndarray, ids: np.ndarray | None = None) -> str:
        """Keep already found ``corners`` (with their ``ids``; all of a chessboard's when
        None) unless a kept view sits in the same place: ``"kept"`` or ``"same place"``."""
        if ids is None:
            ids = np.arange(len(corners), dtype=np.int32)
        for kept in zip(self.corners, self.ids):
            if moved(kept, corners, ids) < self.min_move:
                return "same place"
        self.corners.append(corners)
        self.ids.append(ids)
        return "kept"

    def object_points(self) -> List[np.ndarray]:
        """The board positions of each kept view's corners (N x 3 each)."""
        board = self.board.object_points()
        return [board[ids] for ids in self.ids]

    def _detector(self):
        if self.board.pattern != CHARUCO:
            return None
        if self._charuco is None:
            self._charuco = self.board.charuco_detector()
        return self._charuco

    def covered(self) -> np.ndarray:
        """``GRID`` x ``GRID`` booleans: which cells of the image hold a kept corner."""
        cells = np.zeros((GRID, GRID), bool)
        width, height = self.size
        for corners in self.corners:
            cols = np.clip((corners[:, 0] * GRID / width).astype(int), 0, GRID - 1)
            rows = np.clip((corners[:, 1] * GRID / height).astype(int), 0, GRID - 1)
            cells[rows, cols] = True
        return cells

    def coverage(self) -> float:
        """Share of the image's cells that hold a corner (0..1)."""
        return float(self.covered().mean())

    def missing(self) -> List[str]:
        """Where to move the board next, e.g. ``["top-left", "bottom"]`` (coarse 3x3 names)."""
        cells = self.covered()
        names = []
        thirds = [(0, 1), (1, GRID - 1), (GRID - 1, GRID)]
        labels = [["top-left", "top", "top-right"], ["left", "centre", "right"],
                  ["bottom-left", "bottom", "bottom-right"]]
        for i, (r0, r1) in enumerate(thirds):
            for j, (c0, c1) in enumerate(thirds):
                if not cells[r0:r1, c0:c1].any():
                    names.append(labels[i][j])
        return names

    def map(self) -> str:
        """The coverage grid as text rows (``#`` covered, ``.`` not)."""
        return " ".join("".join("#" if c else "." for c in row) for row in self.covered())
