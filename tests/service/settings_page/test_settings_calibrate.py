"""Calibrating in the browser (Chromium): the board-rendering fake camera (a chessboard at a
deterministic cycle of 24 poses through a known pinhole + Brown-Conrady model, served as
HTTP MJPEG) is a ``url`` source of the service; on the page the board is found live, views
are kept automatically, the solve runs on the service, and the saved file is attached to the
source - ``ListImageSources`` through the robot then reports the rendering model."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from browser_page import wait
from camera_service.geometry.calibration_file import read_calibration
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from settings_stack import SERVICE, start_stack
from test_settings_browser import log_in, screenshot, text

from devtools.polling import wait_for
from fake_cameras.board_camera import BoardCamera, default_model

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOLERANCE = 0.005  # fx, fy, cx, cy within 0.5 % of the rendering model
VIEWS = 20  # of the 24 poses in the cycle (one is too close to another to be kept)


def relative_errors(found, truth) -> dict:
    return {name: abs(getattr(found, name) - getattr(truth, name)) / getattr(truth, name)
            for name in ("fx", "fy", "cx", "cy")}


@pytest.fixture
def calibrate_stack():
    camera = BoardCamera(default_model("pinhole", 960, 540), poses=24)
    folder = Path(tempfile.mkdtemp(prefix="calibrate-stack-"))
    with camera.serve(fps=10) as board:
        stack = start_stack(folder, [{"name": "board", "type": "url", "url": board.url}],
                            session_minutes=10)
        try:
            yield stack, camera
        finally:
            stack.service.stop()
            stack.sim.stop()
            shutil.rmtree(folder, ignore_errors=True)


def views_kept(driver) -> int:
    return int(text(driver, "cal-views").split()[0] or 0)


def test_calibrate_the_board_camera_from_the_page(calibrate_stack, browser, tmp_path):
    stack, camera = calibrate_stack
    browser.set_window_size(1400, 1500)
    browser.get(stack.url)
    log_in(browser, stack, stack.sim.password)
    wait(browser, lambda d: d.find_element(By.ID, "app").is_displayed(), "not logged in")
    wait(browser, lambda d: [o.text for o in Select(d.find_element(By.ID, "cal-source")).options]
         == ["board"], "the calibrate panel lists no source")
    panel = browser.find_element(By.ID, "calibrate")
    browser.execute_script("arguments[0].scrollIntoView()", panel)
    browser.find_element(By.ID, "cal-start").click()
    wait(browser, lambda d: d.find_element(By.ID, "cal-run").is_displayed(), "no run")
    wait(browser, lambda d: text(d, "cal-detected") == "yes", "the board is never found")
    browser.find_element(By.ID, "cal-auto").click()
    wait(browser, lambda d: views_kept(d) >= VIEWS, f"fewer than {VIEWS} views kept",
         timeout=120)
    assert "%" in text(browser, "cal-coverage") and "x" in text(browser, "cal-distance")
    browser.find_element(By.ID, "cal-auto").click()
    wait(browser, lambda d: d.find_element(By.ID, "cal-solve").is_enabled(), "cannot solve")
    browser.find_element(By.ID, "cal-solve").click()
    wait(browser, lambda d: "RMS reprojection error" in text(d, "cal-result"), "no result",
         timeout=120)
    result = text(browser, "cal-result")
    assert "good" in result, result  # a rendered board: well under 0.5 px
    browser.find_element(By.ID, "cal-save").click()
    wait(browser, lambda d: "Saved calibration-board.yaml" in text(d, "cal-message"),
         "not saved")
    screenshot(browser, tmp_path, "settings-calibrated.png", top=False)

    saved_file = stack.folder / "calibration-board.yaml"
    found = read_calibration(str(saved_file))
    errors = relative_errors(found, camera.model)
    print(f"calibrated from the page: {result}; relative errors "
          + ", ".join(f"{k} {v:.3%}" for k, v in errors.items()))
    assert max(errors.values()) < TOLERANCE, errors
    [entry] = yaml.safe_load(stack.config_file.read_text())["sources"]
    assert entry["calibration"] == "calibration-board.yaml"

    robot = stack.sim.sdk_robot()

    def reported():
        """The pinhole intrinsics of the Brown-Conrady model ``board`` is served with, once
        the saved calibration is applied."""
        robot.sync_with_directory()
        try:
            client = robot.ensure_client(SERVICE)
            [source] = [s for s in client.list_image_sources(timeout=5) if s.name == "board"]
        except Exception:  # the service re-registering after the apply
            return None
        if source.WhichOneof("camera_models") != "pinhole_brown_conrady":
            return None
        intrinsics = source.pinhole_brown_conrady.intrinsics.pinhole_intrinsics
        return intrinsics if abs(intrinsics.focal_length.x - found.fx) < 1e-3 else None

    intrinsics = wait_for(reported, timeout=30, what="the calibration served",
                          interval=0.2)
    served = {"fx": intrinsics.focal_length.x, "fy": intrinsics.focal_length.y,
              "cx": intrinsics.principal_point.x, "cy": intrinsics.principal_point.y}
    for name, value in served.items():
        truth = getattr(camera.model, name)
        assert abs(value - truth) / truth < TOLERANCE, (name, value, truth)


def test_the_calibrate_api_is_behind_the_page_guards(calibrate_stack):
    """No session: refused; a session without its CSRF token, or from another site:
    refused, and the run is untouched."""
    stack, _ = calibrate_stack
    assert stack.request("GET", "/api/calibrate").status == 401
    assert stack.request("GET", "/api/calibrate/frame").status == 401
    assert stack.request("POST", "/api/calibrate/start", {"source": "board"}).status == 401
    login = stack.request("POST", "/api/login", {"username": stack.sim.username,
                                                 "password": stack.sim.password})
    assert login.status == 200
    [set_cookie] = [v for k, v in login.headers.items() if k.lower() == "set-cookie"]
    cookie = {"Cookie": set_cookie.split(";")[0]}
    csrf = login.json()["csrf"]
    started = stack.request("POST", "/api/calibrate/start", {"source": "board"},
                            {**cookie, "X-CSRF-Token": csrf})
    assert started.status == 200 and started.json()["views"] == 0
    assert stack.request("POST", "/api/calibrate/solve", {}, cookie).status == 403
    assert stack.request("POST", "/api/calibrate/save", {},
                         {**cookie, "X-CSRF-Token": csrf,
                          "Origin": "https://elsewhere.example"}).status == 403
    refused = stack.request("POST", "/api/calibrate/solve", {},
                            {**cookie, "X-CSRF-Token": csrf})
    assert refused.status == 409 and "at least 5 views" in refused.json()["message"]
    unknown = stack.request("POST", "/api/calibrate/start", {"source": "nope"},
                            {**cookie, "X-CSRF-Token": csrf})
    assert unknown.status == 409 and "not a source" in unknown.json()["message"]
    log = stack.log()
    assert stack.sim.password not in log and " ERROR " not in log
