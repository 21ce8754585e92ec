"""A page opened before the camera service registers (the robot is up, the CORE I/O is still
booting), or before the robot is up, catches up by itself, without a reload."""

from __future__ import annotations

import pytest
from browser_page import frames, wait
from selenium.webdriver.common.by import By
from viewer_stack import service_for, viewer_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_service_registering_later_appears_and_goes_live(robot_sim, browser, tmp_path):
    viewer = viewer_for(robot_sim)
    service = None
    try:
        browser.get(viewer.url)
        wait(browser, lambda d: "No image service is registered" in
             d.find_element(By.ID, "sources").text, "the empty directory was not explained")
        service = service_for(robot_sim, tmp_path)
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "input[data-source]")) == 3,
             "the sources of the new service never appeared", timeout=30)
        wait(browser, lambda d: frames(d, "front") >= 2, "the first source did not go live")
    finally:
        if service is not None:
            service.stop()
        viewer.stop()


def test_robot_coming_up_after_the_viewer_is_picked_up(robot_sim, browser, tmp_path):
    service = service_for(robot_sim, tmp_path)
    robot_sim.refuse_connections(6)
    viewer = viewer_for(robot_sim)  # its first login fails: the robot is not up yet
    try:
        browser.get(viewer.url)
        wait(browser, lambda d: d.find_element(By.ID, "robot-status").text.startswith(
            "robot unreachable at "), "the unreachable robot was not reported")
        wait(browser, lambda d: "logged in" in d.find_element(By.ID, "robot-status").text,
             "the viewer did not log in when the robot came up", timeout=30)
        wait(browser, lambda d: frames(d, "front") >= 2, "no frames once the robot was up",
             timeout=30)
    finally:
        viewer.stop()
        service.stop()
