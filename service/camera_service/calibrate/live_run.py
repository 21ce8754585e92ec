"""One interactive calibration run (the settings page's calibrate panel): look at frames,
keep views, judge their spread, solve in a background thread.

Contract: ``look(grey)`` detects the board in one frame (and, with ``auto`` on, keeps it as a
view when it sits somewhere new); ``capture()`` keeps the last detection; ``start_solve()``
calibrates on a thread of its own (one solve at a time per run, ``Busy`` otherwise) and
``status()`` reports views, coverage, pose spread and the solve's outcome. Bounded: at most
``max_views`` views and images of at most ``MAX_PIXELS`` pixels. Thread-safe.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np

from camera_service.calibrate.solve import MIN_VIEWS, Solution, SolveError, solve
from camera_service.calibrate.views import CHARUCO, GRID, Board, ViewSet, detect
from camera_service.geometry.camera_model import BROWN_CONRADY

MAX_VIEWS = 40
MAX_PIXELS = 4096 * 3072
GOOD_RMS, BAD_RMS = 0.5, 1.0
WANT_DISTANCE_SPREAD = 1.4  # largest / smallest apparent board size
WANT_TILT = 0.12  # foreshortening of the most tilted view (opposite edges differ by 12 %)


class RunError(RuntimeError):
    """The request cannot be done now (one line, with what to do)."""


class Busy(RunError):
    """A solve is already running."""


def rms_meaning(rms: float) -> str:
    """What an RMS reprojection error (pixels) says about a calibration."""
    if rms < GOOD_RMS:
        return "good (under 0.5 px: the model fits the corners closely)"
    if rms < BAD_RMS:
        return "usable (0.5-1 px: take sharper views, flatter board, to do better)"
    return ("poor (over 1 px: blurry views, a bent board or wrong board size/square; "
            "calibrate again)")


def pose_measures(corners: np.ndarray, ids: np.ndarray, board: Board,
                  size: Tuple[int, int]) -> Dict[str, float]:
    """The apparent size of the board (its diagonals' mean, as a share of the image
    diagonal) and its foreshortening (how much opposite edges differ: 0 for a board facing
    the camera) in one view; the board's outline comes from the homography of the corners
    found (a ChArUco view may hold only some)."""
    plane = board.object_points()[ids][:, :2].astype(np.float64)
    homography, _ = cv2.findHomography(plane, corners.astype(np.float64))
    if homography is None:
        return {"size": 0.0, "tilt": 0.0}
    width, height = (board.columns - 1) * board.square, (board.rows - 1) * board.square
    outline = np.array([[[0, 0], [width, 0], [0, height], [width, height]]], np.float64)
    tl, tr, bl, br = cv2.perspectiveTransform(outline, homography)[0]
    top, bottom = float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl))
    left, right = float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr))
    extent = float(np.linalg.norm(br - tl) + np.linalg.norm(tr - bl)) / 2 / math.hypot(*size)
    tilt = max(abs(math.log(max(top, 1e-6) / max(bottom, 1e-6))),
               abs(math.log(max(left, 1e-6) / max(right, 1e-6))))
    return {"size": extent, "tilt": float(tilt)}


class CalibrationRun:
    """The views and the solve of one source's calibration from the page."""

    def __init__(self, source: str, board: Board, model: str = BROWN_CONRADY,
                 max_views: int = MAX_VIEWS, min_move: float = 15.0) -> None:
        self.source, self.board, self.model = source, board, model
        self.max_views = max_views
        self.min_move = min_move
        self.auto = False
        self._views: Optional[ViewSet] = None
        self._last: Optional[Tuple[np.ndarray, np.ndarray]] = None
        self._detector = board.charuco_detector() if board.pattern == CHARUCO else None
        self._last_verdict = ""
        self._lock = threading.Lock()
        self._solving: Optional[threading.Thread] = None
        self.solution: Optional[Solution] = None
        self.solve_error: Optional[str] = None

    # -- frames ----------------------------------------------------------------------------
    def look(self, grey: np.ndarray) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """Detect the board in ``grey``; returns its ``(corners N x 2, ids)`` or None. With
        ``auto`` a detection somewhere new is kept as a view."""
        if grey.ndim != 2 or grey.size > MAX_PIXELS:
            raise RunError(f"images over {MAX_PIXELS} pixels are not calibrated here; "
                           "lower the source's size")
        corners = detect(grey, self.board, self._detector)
        with self._lock:
            size = (int(grey.shape[1]), int(grey.shape[0]))
            if self._views is None or self._views.size != size:
                if self._views is not None and self._views.corners:
                    self._last_verdict = "the image size changed: views started again"
                self._views = ViewSet(self.board, size, self.min_move)
                self.solution, self.solve_error = None, None
            self._last = corners
            if corners is not None and self.auto:
                self._keep(corners)
        return corners

    def capture(self) -> str:
        """Keep the last detection as a view: ``"kept"``, or raises ``RunError``."""
        with self._lock:
            if self._last is None:
                raise RunError(f"no {self.board.columns}x{self.board.rows} board in the last "
                               "frame; show the whole board")
            verdict = self._keep(self._last)
        if verdict != "kept":
            raise RunError(verdict)
        return verdict

    def _keep(self, found: Tuple[np.ndarray, np.ndarray]) -> str:
        assert self._views is not None
        if len(self._views.corners) >= self.max_views:
            self._last_verdict = f"{self.max_views} views kept: the most a run keeps; solve"
            return self._last_verdict
        verdict = self._views.keep(*found)
        self._last_verdict = ("kept" if verdict == "kept" else
                              "same place as a kept view: move the board")
        return self._last_verdict

    def clear(self) -> None:
        """Forget every view (and the result)."""
        with self._lock:
            if self._views is not None:
                self._views = ViewSet(self.board, self._views.size, self.min_move)
            self.solution, self.solve_error = None, None

    # -- solving ---------------------------------------------------------------------------
    def start_solve(self) -> None:
        """Calibrate the kept views on a thread of its own; ``Busy`` while one runs."""
        with self._lock:
            if self._solving is not None and self._solving.is_alive():
                raise Busy("a calibration is already being solved; wait for it")
            views = self._views
            if views is None or len(views.corners) < MIN_VIEWS:
                raise RunError(f"keep at least {MIN_VIEWS} views first")
            snapshot = ViewSet(views.board, views.size, views.min_move, list(views.corners),
                               list(views.ids))
            self.solution, self.solve_error = None, None
            self._solving = threading.Thread(target=self._solve, args=(snapshot,),
                                             name=f"calibrate-{self.source}", daemon=True)
            self._solving.start()

    def _solve(self, views: ViewSet) -> None:
        try:
            solution = solve(views, self.model)
        except SolveError as err:
            with self._lock:
                self.solve_error = str(err)
            return
        with self._lock:
            self.solution = solution

    def wait_solved(self, timeout: float) -> bool:
        """True once no solve runs (for tests and shutdown)."""
        thread = self._solving
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # -- report ----------------------------------------------------------------------------
    def status(self) -> Dict[str, Any]:
        """What the panel shows: views, coverage grid, pose spread with hints, the solve."""
        with self._lock:
            views = self._views
            kept = list(zip(views.corners, views.ids)) if views is not None else []
            answer: Dict[str, Any] = {
                "source": self.source,
                "board": f"{self.board.columns}x{self.board.rows}",
                "pattern": self.board.pattern,
                "square": self.board.square,
                "auto": self.auto,
                "views": len(kept), "max_views": self.max_views, "min_views": MIN_VIEWS,
                "size": list(views.size) if views is not None else None,
                "detected": self._last is not None,
                "corners": (self._last[0].round(1).tolist() if self._last is not None
                            else []),
                "last": self._last_verdict,
                "solving": self._solving is not None and self._solving.is_alive(),
                "error": self.solve_error,
            }
            if views is not None:
                answer["grid"] = [[bool(c) for c in row] for row in views.covered()]
                answer["coverage"] = views.coverage()
                answer["missing"] = views.missing() if kept else []
            else:
                answer["grid"] = [[False] * GRID for _ in range(GRID)]
                answer["coverage"], answer["missing"] = 0.0, []
            answer["poses"] = self._spread(kept, views.size if views is not None else (1, 1))
            if self.solution is not None:
                model = self.solution.model
                answer["result"] = {
                    "rms": self.solution.rms, "meaning": rms_meaning(self.solution.rms),
                    "fx": model.fx, "fy": model.fy, "cx": model.cx, "cy": model.cy,
                    "model": model.model, "coefficients": list(model.coefficients),
                    "width": model.width, "height": model.height,
                    "worst_view": max(self.solution.per_view)}
            return answer

    def _spread(self, kept: List[Tuple[np.ndarray, np.ndarray]],
                size: Tuple[int, int]) -> Dict[str, Any]:
        if not kept:
            return {"distance_spread": 1.0, "max_tilt": 0.0, "hints": []}
        measures = [pose_measures(c, ids, self.board, size) for c, ids in kept]
        sizes = [m["size"] for m in measures]
        spread = max(sizes) / max(min(sizes), 1e-6)
        tilt = max(m["tilt"] for m in measures)
        hints = []
        if spread < WANT_DISTANCE_SPREAD:
            hints.append("vary the distance: bring the board closer and farther")
        if tilt < WANT_TILT:
            hints.append("tilt the board more (up to about 45 degrees) in some views")
        return {"distance_spread": spread, "max_tilt": tilt, "hints": hints}

    def solved(self) -> Solution:
        """The solution; ``RunError`` when there is none (yet)."""
        with self._lock:
            if self.solution is None:
                raise RunError("solve the calibration first")
            return self.solution

    def view_count(self) -> int:
        with self._lock:
            return len(self._views.corners) if self._views is not None else 0
