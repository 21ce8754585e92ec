"""ViewSet: kept views, repeats refused, coverage and where the board has not been."""

from __future__ import annotations

import numpy as np
from camera_service.calibrate.views import Board, ViewSet
from geometry_helpers import board_poses, render_view

MATRIX = np.array([[520.0, 0, 320], [0, 520.0, 240], [0, 0, 1]])


def _view(index: int) -> np.ndarray:
    rvec, tvec = board_poses(6, seed=5)[index]
    return render_view(640, 480, MATRIX, (0, 0, 0, 0, 0), False, rvec, tvec)


def test_offer_keeps_new_places_only():
    views = ViewSet(Board(9, 6, 0.03), (640, 480))
    first = _view(0)
    assert views.offer(first) == "kept"
    assert views.offer(first) == "same place"
    assert views.offer(np.full((480, 640), 128, np.uint8)) == "no board"
    assert views.offer(np.zeros((240, 320), np.uint8)) == "size changed"
    assert views.offer(_view(1)) == "kept"
    assert len(views.corners) == 2


def test_coverage_and_missing_regions():
    views = ViewSet(Board(9, 6, 0.03), (640, 480))
    assert views.coverage() == 0 and len(views.missing()) == 9
    views.corners.append(np.array([[10.0, 10.0], [630.0, 470.0]]))
    assert views.coverage() == 2 / 16
    assert "top-left" not in views.missing() and "bottom-right" not in views.missing()
    assert views.map().startswith("#...") and views.map().endswith("...#")
