"""Every option a field (issue 25's done-when, in Chromium): a ``url`` source, a ``v4l2``
source picked from "Cameras present" (fake V4L2 world: device, format, size and rate chosen
from what the camera reports) and a ``file`` source are added with fields only; an invalid
value shows its message next to that field and nothing is written; the saved YAML is what
the fields said; every new source is served through the robot."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml
from browser_page import wait
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from service_test_helpers import SERVICE_NAME, wait_for
from test_settings_browser import log_in, screenshot, set_field, text

from devtools.world_stack import world_stack
from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def stack(robot_sim, tmp_path):
    world = FakeV4L2World(str(tmp_path / "world"))
    world.plug(FakeCamera(model="Brio", serial="FREE2", usb_port="2", paced=True))
    sources = [{"name": "front", "type": "synthetic", "width": 320, "height": 240, "fps": 5}]
    with world_stack(robot_sim, world, tmp_path, sources) as stack:
        yield stack


@pytest.fixture
def ip_camera():
    camera = FakeIPCamera(width=320, height=240, fps=10).start()
    try:
        yield camera
    finally:
        camera.stop()


@pytest.fixture
def video(tmp_path):
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for level in range(0, 200, 10):
        writer.write(np.full((120, 160, 3), level, np.uint8))
    writer.release()
    return path


def field(driver, index, name):
    return driver.find_element(By.CSS_SELECTOR, f'[data-index="{index}"][data-field="{name}"]')


def type_into(driver, index, name, value):
    set_field(driver, index, name, value)


def choose(driver, index, name, value):
    Select(field(driver, index, name)).select_by_value(value)


def new_entry(driver, kind):
    driver.find_element(By.ID, "add-source").click()
    index = len(driver.find_elements(By.CSS_SELECTOR, ".entry")) - 1
    choose(driver, index, "type", kind)
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f'.entry[data-index="{index}"]')
         .get_attribute("data-kind") == kind, f"no {kind} fields")
    return index


def test_url_v4l2_and_file_sources_added_with_fields_only(stack, ip_camera, video, browser,
                                                          tmp_path):
    browser.set_window_size(1400, 1600)
    browser.get(stack.url)
    log_in(browser, stack, stack.sim.password)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".entry"), "no source editor")
    wait(browser, lambda d: "FREE2" in text(d, "camera-list"), "no camera present")
    assert not browser.find_elements(By.CSS_SELECTOR, "textarea")  # no free YAML box

    ip = new_entry(browser, "url")
    type_into(browser, ip, "name", "ip")
    type_into(browser, ip, "url", ip_camera.url)
    choose(browser, ip, "reader", "mjpeg")
    type_into(browser, ip, "timeout", "-1")

    usb = new_entry(browser, "v4l2")
    type_into(browser, usb, "name", "usb")
    camera = next(c for c in stack.page.backend.cameras()["present"] if c["captures"])
    choose(browser, usb, "device", camera["device"])  # one of the cameras present
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                            f'select[data-index="{usb}"][data-field="size"]'),
         "no size choices from the camera")
    assert "MJPG" in [o.text for o in Select(field(browser, usb, "format")).options]
    choose(browser, usb, "format", "MJPG")
    choose(browser, usb, "size", "1280x720")
    choose(browser, usb, "fps", "30")

    clip = new_entry(browser, "file")
    type_into(browser, clip, "name", "clip")
    type_into(browser, clip, "path", video)

    before = stack.config_file.read_bytes()
    browser.find_element(By.ID, "save").click()
    message = browser.find_element(
        By.CSS_SELECTOR, f'.field-error[data-index="{ip}"][data-error-for="timeout"]')
    wait(browser, lambda d: message.text.startswith(f"sources[{ip}].timeout: "),
         "no message next to the timeout field")
    assert "Not saved" in text(browser, "save-message")
    assert stack.config_file.read_bytes() == before
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", message)
    screenshot(browser, tmp_path, "settings-fields-invalid.png", top=False)

    type_into(browser, ip, "timeout", "3")
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: "Saved and applied" in text(d, "save-message"), "not saved")
    saved = {entry["name"]: entry for entry in
             yaml.safe_load(stack.config_file.read_text())["sources"]}
    assert saved["ip"] == {"name": "ip", "type": "url", "url": ip_camera.url,
                           "reader": "mjpeg", "timeout": 3.0}
    assert saved["usb"] == {"name": "usb", "type": "v4l2", "device": camera["device"],
                            "format": "MJPG", "width": 1280, "height": 720, "fps": 30.0}
    assert saved["clip"] == {"name": "clip", "type": "file", "path": video}

    robot = stack.sim.sdk_robot()

    def served(name):
        robot.sync_with_directory()
        try:
            [answer] = robot.ensure_client(SERVICE_NAME).get_image_from_sources([name],
                                                                                timeout=3)
            return answer
        except Exception:
            return None

    sizes = {name: wait_for(lambda n=name: served(n), timeout=20).shot.image
             for name in ("ip", "usb", "clip")}
    assert {name: (image.cols, image.rows) for name, image in sizes.items()} == {
        "ip": (320, 240), "usb": (1280, 720), "clip": (160, 120)}
    screenshot(browser, tmp_path, "settings-fields-saved.png")
