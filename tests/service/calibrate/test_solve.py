"""solve: refuses too few views; reprojection errors are computed per view."""

from __future__ import annotations

import numpy as np
import pytest
from camera_service.calibrate.solve import SolveError, solve
from camera_service.calibrate.views import Board, ViewSet
from geometry_helpers import board_poses, render_view

MATRIX = np.array([[520.0, 0, 321.5], [0, 518.0, 239.0], [0, 0, 1]])


def test_too_few_views():
    views = ViewSet(Board(9, 6), (640, 480), corners=[np.zeros((54, 2))] * 3)
    with pytest.raises(SolveError, match="3 views are too few"):
        solve(views)


def test_pinhole_views_give_small_errors():
    views = ViewSet(Board(9, 6, 0.03), (640, 480))
    for rvec, tvec in board_poses(8, seed=2):
        views.offer(render_view(640, 480, MATRIX, (0, 0, 0, 0, 0), False, rvec, tvec))
    solution = solve(views)
    assert len(solution.per_view) == len(views.corners) >= 6
    assert solution.rms < 0.2 and max(solution.per_view) < 0.3
    assert abs(solution.model.fx - 520.0) / 520.0 < 0.01
    assert all(abs(c) < 0.05 for c in solution.model.coefficients)
