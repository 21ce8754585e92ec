"""Chessboard views: detection, which views to keep, and how much of the image they cover.

A view is kept when the board is found and it sits elsewhere than every kept view (its
corners moved ``min_move`` pixels on average), so holding the board still does not fill the
set with copies. Coverage is the share of a ``GRID`` x ``GRID`` partition of the image that
holds a corner of some kept view: corners near the image border are what pins distortion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

import cv2
import numpy as np

GRID = 4
_FIND_FLAGS = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
_SUBPIX = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


@dataclass(frozen=True)
class Board:
    """A chessboard with ``columns`` x ``rows`` inner corners and ``square`` metres squares."""

    columns: int
    rows: int
    square: float = 0.025

    def object_points(self) -> np.ndarray:
        """Corner positions on the board (z = 0), in ``findChessboardCorners`` order."""
        grid = np.zeros((self.rows * self.columns, 3), np.float32)
        grid[:, :2] = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2) * self.square
        return grid


def find_corners(image: np.ndarray, board: Board) -> np.ndarray | None:
    """The board's inner corners in ``image`` (N x 2, sub-pixel), or None when not found."""
    found, corners = cv2.findChessboardCorners(image, (board.columns, board.rows),
                                               flags=_FIND_FLAGS)
    if not found:
        return None
    corners = cv2.cornerSubPix(image, corners, (5, 5), (-1, -1), _SUBPIX)
    return corners.reshape(-1, 2)


@dataclass
class ViewSet:
    """The kept views of one calibration run, all of one image size."""

    board: Board
    size: Tuple[int, int]
    min_move: float = 15.0
    corners: List[np.ndarray] = field(default_factory=list)

    def offer(self, image: np.ndarray) -> str:
        """Try ``image``: ``"kept"``, ``"no board"``, ``"same place"`` or ``"size changed"``."""
        if (image.shape[1], image.shape[0]) != self.size:
            return "size changed"
        corners = find_corners(image, self.board)
        if corners is None:
            return "no board"
        for kept in self.corners:
            if float(np.linalg.norm(kept - corners, axis=1).mean()) < self.min_move:
                return "same place"
        self.corners.append(corners)
        return "kept"

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
