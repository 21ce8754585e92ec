"""The settings page's calibrate panel over the running service (``Calibrator``).

Frames come from the service in-process (``ServiceView.frame``: what GetImage serves); the
board is found on the server and drawn on the JPEG the page shows. One run at a time (a new
``start`` replaces it), one detection at a time, one solve at a time (on its own thread).
``save`` writes the result as OpenCV YAML into the config file's folder (the extension's kept
folder), sets the source's ``calibration:`` to it and applies the config live.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np

from camera_service.app.settings_backend import ServiceView
from camera_service.calibrate.live_run import CalibrationRun, RunError
from camera_service.calibrate.views import CHESSBOARD, PATTERNS, Board
from camera_service.core.errors import ConfigError
from camera_service.geometry.calibration_file import write_calibration
from camera_service.geometry.camera_model import ModelError, model_name
from camera_service.settings_page.config_store import ConfigStore

_LOG = logging.getLogger("camera_service.settings_page")
FRAME_QUALITY = 95  # corners are found on this JPEG: little recompression loss
SHOWN_QUALITY = 80
_BOARD_RE = re.compile(r"^(\d{1,2})x(\d{1,2})$")


class Calibrator:
    """The calibrate panel's operations; each raises ``RunError`` with one line."""

    def __init__(self, view: ServiceView, store: ConfigStore) -> None:
        self._view = view
        self._store = store
        self._run: Optional[CalibrationRun] = None
        self._detecting = threading.Lock()
        self._lock = threading.Lock()

    def start(self, source: str, board: str = "9x6", square: float = 0.025,
              model: str = "pinhole_brown_conrady",
              pattern: str = CHESSBOARD) -> Dict[str, Any]:
        """A new run on ``source`` (forgetting any other) with a ``pattern`` board of
        ``board`` (COLUMNSxROWS) inner corners."""
        if pattern not in PATTERNS:
            raise RunError(f"pattern must be one of {', '.join(PATTERNS)}")
        match = _BOARD_RE.match(str(board).strip().lower())
        if match is None or min(int(match[1]), int(match[2])) < 2:
            raise RunError(f"board {str(board)[:20]!r} is not COLUMNSxROWS of inner corners, "
                           "e.g. 9x6")
        if not isinstance(square, (int, float)) or not 0.001 <= float(square) <= 1.0:
            raise RunError("square must be the square size in metres (0.001 to 1)")
        try:
            kind = model_name(str(model))
        except ModelError as err:
            raise RunError(str(err)) from None
        if source not in self._sources():
            raise RunError(f"{source[:64]!r} is not a source of {self._store.path.name}")
        with self._lock:
            self._run = CalibrationRun(source, Board(int(match[1]), int(match[2]),
                                                     float(square), pattern), kind)
        _LOG.info("settings page: calibrating %r with a %s %s", source, board, pattern)
        return self._run.status()

    def run(self) -> CalibrationRun:
        with self._lock:
            if self._run is None:
                raise RunError("start a calibration first (pick a source)")
            return self._run

    def status(self) -> Dict[str, Any]:
        with self._lock:
            return self._run.status() if self._run is not None else {"source": None}

    def look(self) -> Tuple[bytes, Dict[str, Any]]:
        """A fresh frame of the run's source with the detected corners drawn, and the status
        after looking (one detection at a time: a second caller waits for the first)."""
        run = self.run()
        with self._detecting:
            frame = self._view.frame(run.source, FRAME_QUALITY, 1.0)
            image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise RunError(f"{run.source}: the frame does not decode")
            found = run.look(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
            if found is not None:
                draw_corners(image, run.board, *found)
            _, shown = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, SHOWN_QUALITY])
        return shown.tobytes(), run.status()

    def save(self, username: str) -> Dict[str, Any]:
        """The solved model written next to the config file and attached to the source."""
        run = self.run()
        solution = run.solved()
        folder = self._store.path.parent
        name = f"calibration-{re.sub(r'[^A-Za-z0-9_.-]', '_', run.source)}.yaml"
        try:
            write_calibration(str(folder / name), solution.model, {
                "avg_reprojection_error": solution.rms, "views": run.view_count()})
        except OSError as err:
            raise RunError(f"cannot write {folder / name}: {err.strerror or err}") from None
        data = self._store.read()
        entries = [dict(entry) for entry in data.get("sources") or []]
        entry = next((e for e in entries if e.get("name") == run.source), None)
        if entry is None:
            raise RunError(f"{run.source!r} is no longer a source of {self._store.path.name}")
        entry["calibration"] = name
        entry.pop("intrinsics", None)  # the calibration file is the model now
        try:
            self._store.save_sources(entries)
        except ConfigError as err:
            raise RunError(f"{err.key}: {err.problem}") from None
        except OSError as err:
            raise RunError(f"cannot write {self._store.path}: {err.strerror or err}") from None
        _LOG.info("settings page: user %r saved the calibration of %r to %s (RMS %.3f px)",
                  username, run.source, name, solution.rms)
        applied = self._view.apply()
        return {"path": str(folder / name), "file": name, "source": run.source,
                "applied": applied}

    def _sources(self) -> List[str]:
        entries = self._store.read().get("sources") or []
        return [str(e.get("name")) for e in entries if isinstance(e, dict)]



def draw_corners(image: np.ndarray, board: Board, corners: np.ndarray, ids: np.ndarray) -> None:
    """The corners found drawn into ``image`` (a whole chessboard: OpenCV's coloured rows;
    ChArUco: each corner found, with its id)."""
    points = corners.reshape(-1, 1, 2).astype(np.float32)
    if len(ids) == board.columns * board.rows and board.pattern == CHESSBOARD:
        cv2.drawChessboardCorners(image, (board.columns, board.rows), points, True)
    else:
        cv2.aruco.drawDetectedCornersCharuco(image, points, ids.reshape(-1, 1), (0, 255, 0))
