"""``python -m camera_service.calibrate`` on synthetic chessboard views rendered with known
intrinsics and distortion: through the running service (robot, SDK ImageClient) and
straight from a device (file source); the written file is what the service loads."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from camera_service.calibrate.__main__ import main
from camera_service.config.model import from_mapping
from camera_service.geometry.camera_model import BROWN_CONRADY, KANNALA_BRANDT, CameraModel
from geometry_helpers import board_poses, render_view, write_video
from service_test_helpers import SERVICE_NAME, image_client, service_config

TRUE_BC = CameraModel(640, 480, 540.0, 536.0, 326.5, 233.0, BROWN_CONRADY,
                      (-0.25, 0.07, 0.001, -0.0008, -0.01))
TRUE_KB = CameraModel(640, 480, 300.0, 301.5, 318.0, 243.5, KANNALA_BRANDT,
                      (0.04, -0.015, 0.006, -0.002))


def _video(tmp_path, truth: CameraModel, count: int = 14) -> str:
    fisheye = truth.model == KANNALA_BRANDT
    views = [render_view(640, 480, truth.camera_matrix(), truth.coefficients, fisheye,
                         rvec, tvec * (0.6 if fisheye else 1.0))
             for rvec, tvec in board_poses(count, seed=11)]
    path = tmp_path / "board.avi"
    write_video(str(path), views, fps=12)
    return str(path)


def _within_one_percent(found: CameraModel, truth: CameraModel) -> None:
    errors = {name: abs(getattr(found, name) - getattr(truth, name)) / getattr(truth, name)
              for name in ("fx", "fy", "cx", "cy")}
    print("relative errors:", {k: f"{v:.3%}" for k, v in errors.items()})
    assert max(errors.values()) < 0.01, (found.describe(), truth.describe())


def _loaded_by_the_service(path: str) -> CameraModel:
    config = from_mapping({"sources": [{"name": "cam", "type": "synthetic", "width": 640,
                                        "height": 480, "calibration": path}]})
    return config.sources[0].settings.geometry.model


def test_through_the_running_service(robot_sim, run_service, tmp_path, monkeypatch):
    video = _video(tmp_path, TRUE_BC)
    run_service(service_config(robot_sim, [{"name": "board", "type": "file", "path": video}]))
    image_client(robot_sim)  # registered
    monkeypatch.setenv("BOSDYN_CLIENT_USERNAME", robot_sim.username)
    monkeypatch.setenv("BOSDYN_CLIENT_PASSWORD", robot_sim.password)
    output = tmp_path / "cal" / "board.yaml"
    out = io.StringIO()
    status = main(["--robot", robot_sim.address, "--robot-port", str(robot_sim.port),
                   "--ca-cert", str(robot_sim.ca_cert), "--image-service", SERVICE_NAME,
                   "--source", "board", "--output", str(output), "--board", "9x6",
                   "--square", "0.03", "--views", "10", "--timeout", "60"], out)
    text = out.getvalue()
    assert status == 0, text
    assert "view 10/10 kept; coverage" in text and "reprojection error" in text
    assert robot_sim.password not in text
    model = _loaded_by_the_service(str(output))
    assert model.model == BROWN_CONRADY
    _within_one_percent(model, TRUE_BC)


def test_straight_from_the_device_fisheye(tmp_path):
    video = _video(tmp_path, TRUE_KB)
    config = tmp_path / "config.yaml"
    config.write_text(f"sources:\n  - name: fish\n    type: file\n    path: {video}\n")
    output = tmp_path / "fish.yaml"
    out = io.StringIO()
    status = main(["--config", str(config), "--source", "fish", "--output", str(output),
                   "--square", "0.03", "--views", "10", "--model", "fisheye",
                   "--timeout", "60"], out)
    assert status == 0, out.getvalue()
    model = _loaded_by_the_service(str(output))
    assert model.model == KANNALA_BRANDT
    _within_one_percent(model, TRUE_KB)
    assert np.allclose(model.coefficients, TRUE_KB.coefficients, atol=0.02)


def test_errors_are_one_line(tmp_path):
    out = io.StringIO()
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - name: a\n    type: synthetic\n")
    assert main(["--config", str(config), "--source", "b", "--output", "x.yaml"], out) == 2
    assert out.getvalue().startswith("error: ") and "has no source 'b'" in out.getvalue()
    out = io.StringIO()
    # a synthetic test pattern has no chessboard: not enough views in time
    assert main(["--config", str(config), "--source", "a", "--output", str(tmp_path / "o"),
                 "--views", "5", "--timeout", "1"], out) == 1
    assert "only 0 of 5 views" in out.getvalue()
    assert not (tmp_path / "o").exists()


def test_module_runs_and_refuses_a_bad_board():
    result = subprocess.run([sys.executable, "-m", "camera_service.calibrate", "--service",
                             "127.0.0.1:1", "--source", "a", "--output", "o", "--board", "9"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "is not COLUMNSxROWS" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["--views", "3"]])
def test_too_few_views_asked(argv, capsys):
    with pytest.raises(SystemExit):
        main(["--service", "h:1", "--source", "a", "--output", "o", *argv])
    assert "at least 5" in capsys.readouterr().err
