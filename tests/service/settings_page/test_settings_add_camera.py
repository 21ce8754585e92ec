"""Adding a camera in one click from "Cameras present" (fake V4L2 world, in Chromium): the
stable device name filled in, the best MJPEG mode preselected, saved and applied, and the
new source served through the robot."""

from __future__ import annotations

import pytest
import yaml
from browser_page import wait
from selenium.webdriver.common.by import By
from service_test_helpers import SERVICE_NAME, wait_for
from test_settings_browser import log_in, screenshot, text

from devtools.world_stack import world_stack
from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODES = {"YUYV": {(640, 480): 30.0},
         "MJPG": {(640, 480): 30.0, (1280, 720): 30.0, (1920, 1080): 15.0}}


@pytest.fixture
def stack(robot_sim, tmp_path):
    world = FakeV4L2World(str(tmp_path / "world"))
    world.plug(FakeCamera(model="Brio", serial="FREE2", usb_port="2", paced=True,
                          modes={k: dict(v) for k, v in MODES.items()}))
    sources = [{"name": "front", "type": "synthetic", "width": 320, "height": 240, "fps": 5}]
    with world_stack(robot_sim, world, tmp_path, sources) as stack:
        yield stack


def test_add_a_camera_in_one_click(stack, browser, tmp_path):
    browser.set_window_size(1400, 1300)
    browser.get(stack.url)
    log_in(browser, stack, stack.sim.password)
    wait(browser, lambda d: d.find_element(By.ID, "app").is_displayed(), "not logged in")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                            "button.add-camera:not([disabled])"),
         "no camera to add")
    add = browser.find_element(By.CSS_SELECTOR, "button.add-camera:not([disabled])")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", add)
    add.click()
    wait(browser, lambda d: "Saved and applied" in text(d, "save-message"), "not saved")
    saved = yaml.safe_load(stack.config_file.read_text())["sources"]
    [added] = [entry for entry in saved if entry["type"] == "v4l2"]
    # the stable name (by-id), not the video node number; the best MJPEG mode at >= 25 fps
    assert "/v4l/by-id/" in added["device"] and "FREE2" in added["device"]
    assert (added["width"], added["height"], added["fps"], added["format"]) == (
        1280, 720, 30, "MJPG")
    robot = stack.sim.sdk_robot()

    def served():
        robot.sync_with_directory()
        try:
            client = robot.ensure_client(SERVICE_NAME)
            [answer] = client.get_image_from_sources([added["name"]], timeout=3)
            return answer
        except Exception:
            return None

    answer = wait_for(served, timeout=20)
    assert (answer.shot.image.cols, answer.shot.image.rows) == (1280, 720)
    wait(browser, lambda d: added["name"] in text(d, "camera-list"), "not shown as used")
    screenshot(browser, tmp_path, "settings-camera-added.png")
