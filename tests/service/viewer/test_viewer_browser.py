"""The viewer page in a real headless Chromium against the real stack (simulator, camera
service subprocess, viewer): frames appear and change, switching sources, quality/resize
controls, a faulted source's message, the robot going away and coming back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from browser_page import PIXELS_JS, frames, loaded_pixels, save_screenshot, tile, toggle, wait
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture(scope="module")
def page(stack, browser):
    """The viewer page, loaded once; the tests below run in order on it."""
    browser.get(stack.url)
    return browser


def test_page_loads_logged_in_with_sources(page, stack):
    assert page.title == "Spot camera viewer"
    wait(page, lambda d: "logged in" in d.find_element(By.ID, "robot-status").text,
         "status never said logged in")
    status = page.find_element(By.ID, "robot-status").text
    assert f"{stack.sim.address}:{stack.sim.port}" in status
    assert stack.sim.password not in page.page_source
    wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "input[data-source]"),
         "no source listed")
    listed = {box.get_attribute("data-source")
              for box in page.find_elements(By.CSS_SELECTOR, "input[data-source]")}
    assert listed == {"front", "raw", "broken"}
    legend = page.find_element(By.CSS_SELECTOR, "fieldset.service legend").text
    assert legend == "camera-image-service"


def test_first_source_shows_frames_that_change(page, tmp_path):
    wait(page, lambda d: frames(d, "front") >= 2, "no frame of 'front' appeared")
    image = tile(page, "front").find_element(By.TAG_NAME, "img")
    first_pixels, width = loaded_pixels(page, image)
    assert width == 640
    first_count = frames(page, "front")
    wait(page, lambda d: frames(d, "front") >= first_count + 5, "frames stopped arriving")
    wait(page, lambda d: d.execute_script(PIXELS_JS, image) not in (None, first_pixels),
         "the picture did not change")
    stats = tile(page, "front").find_element(By.CLASS_NAME, "tile-stats").text
    for label in ("fps", "latency", "age", "640\u00d7480"):
        assert label in stats
    save_screenshot(page, tmp_path, "viewer-live.png")


def test_switching_source(page):
    toggle(page, "front")
    toggle(page, "raw")
    wait(page, lambda d: tile(d, "front") is None, "the 'front' tile stayed")
    wait(page, lambda d: frames(d, "raw") >= 2, "no frame of 'raw' appeared")
    image = tile(page, "raw").find_element(By.TAG_NAME, "img")
    assert image.get_attribute("naturalWidth") == "320"


def test_resize_control_applies_to_live_tiles(page):
    Select(page.find_element(By.ID, "resize")).select_by_value("0.5")
    image_width = lambda d: tile(d, "raw").find_element(By.TAG_NAME, "img").get_attribute(  # noqa: E731
        "naturalWidth")
    wait(page, lambda d: image_width(d) == "160", "resize 50 % not applied")
    Select(page.find_element(By.ID, "resize")).select_by_value("1")
    wait(page, lambda d: image_width(d) == "320", "full size not restored")


def test_faulted_source_shows_its_message(page, tmp_path):
    toggle(page, "broken")
    wait(page, lambda d: tile(d, "broken") is not None
         and tile(d, "broken").get_attribute("data-state") == "fault",
         "the broken source never showed a fault")
    message = tile(page, "broken").find_element(By.CLASS_NAME, "tile-message")
    assert message.is_displayed()
    assert message.text.startswith("broken: image data error - ")
    # The healthy tile keeps going next to it.
    count = frames(page, "raw")
    wait(page, lambda d: frames(d, "raw") > count + 2, "the healthy tile stopped")
    save_screenshot(page, tmp_path, "viewer-fault.png")


def test_robot_gone_shows_message_and_recovers(page, stack, tmp_path):
    stack.sim.refuse_connections(4)
    expected = f"robot unreachable at {stack.sim.address}:{stack.sim.port}"
    wait(page, lambda d: d.find_element(By.ID, "robot-status").text.startswith(expected),
         "the status never said the robot is unreachable")
    wait(page, lambda d: tile(d, "raw").find_element(By.CLASS_NAME, "tile-message").text
         .startswith(expected), "the tile never said the robot is unreachable")
    assert tile(page, "raw").get_attribute("data-state") == "error"
    save_screenshot(page, tmp_path, "viewer-robot-gone.png")
    count = frames(page, "raw")
    wait(page, lambda d: frames(d, "raw") > count + 2, "frames did not come back", timeout=30)
    wait(page, lambda d: "logged in" in d.find_element(By.ID, "robot-status").text,
         "status did not recover")
    assert tile(page, "raw").get_attribute("data-state") == "live"


def test_view_is_kept_in_the_address(page, stack):
    view = parse_qs(urlsplit(page.current_url).fragment)
    assert set(view["sources"][0].split(",")) == {"camera-image-service/raw",
                                                  "camera-image-service/broken"}
    assert view["resize"] == ["1"]
    page.get("about:blank")
    page.get(stack.url + "#sources=camera-image-service/front&quality=40&resize=0.5")
    wait(page, lambda d: frames(d, "front") >= 2, "the source named in the address is not shown")
    assert tile(page, "raw") is None and tile(page, "broken") is None
    image = tile(page, "front").find_element(By.TAG_NAME, "img")
    assert image.get_attribute("naturalWidth") == "320"
    assert page.find_element(By.ID, "quality").get_attribute("value") == "40"
    assert page.find_element(By.CSS_SELECTOR, 'input[data-source="front"]').is_selected()
