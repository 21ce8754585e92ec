"""The viewer with 16-bit sources: a thermal (Y16) and a depth (Z16) camera of the fake V4L2
world served by the camera service through the robot simulator. The viewer lists them as
16-bit, shows their JPEG view and the raw range that view covers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.app.service import CameraService
from service_test_helpers import SERVICE_NAME, service_config, wait_for
from viewer_stack import ViewerStack, viewer_for

from fake_cameras.v4l2_world import FakeV4L2World, depth_camera, thermal_camera


@pytest.fixture
def stack(robot_sim, tmp_path):
    world = FakeV4L2World(str(tmp_path))
    sources = [world.source(world.plug(thermal_camera(paced=True)), "thermal", fps=30,
                            range={"min": 10000, "max": 50000}),
               world.source(world.plug(depth_camera(paced=True)), "depth", fps=30,
                            depth_scale=1000)]
    service = CameraService(service_config(robot_sim, []), sources=sources)
    service.start()
    viewer = None
    try:
        robot_sim.wait_for_service(SERVICE_NAME, timeout=15)
        for source in sources:
            wait_for(lambda name=source.name: service.store.latest(name))
        viewer = viewer_for(robot_sim)
        yield ViewerStack(robot_sim, service, viewer)
    finally:
        if viewer is not None:
            viewer.stop()
        service.stop()


def test_viewer_lists_and_shows_16_bit_sources_with_their_range(stack):
    (service,) = [s for s in stack.get("/api/sources").json()["services"]
                  if s["name"] == SERVICE_NAME]
    sources = {source["name"]: source for source in service["sources"]}
    assert sources["thermal"]["pixel_formats"][0] == "PIXEL_FORMAT_GREYSCALE_U16"
    assert sources["depth"]["pixel_formats"][0] == "PIXEL_FORMAT_DEPTH_U16"

    thermal = stack.get(f"/api/frame?service={SERVICE_NAME}&source=thermal&quality=75")
    assert thermal.status == 200 and thermal.headers["X-Value-Range"] == "10000..50000"
    assert "X-Depth-Scale" not in thermal.headers
    image = cv2.imdecode(np.frombuffer(thermal.body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (512, 640, 3)

    depth = stack.get(f"/api/frame?service={SERVICE_NAME}&source=depth&quality=75")
    assert depth.status == 200 and depth.headers["X-Depth-Scale"] == "1000"
    low, high = (int(v) for v in depth.headers["X-Value-Range"].split(".."))
    assert 0 < low < high <= 65535  # auto: this frame's 1st..99th percentile, no-data excluded


@pytest.mark.browser
@pytest.mark.slow
def test_page_shows_16_bit_sources_and_their_range(stack, browser, tmp_path):
    from browser_page import frames, save_screenshot, tile, toggle, wait
    from selenium.webdriver.common.by import By

    browser.get(stack.url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'input[data-source="depth"]'),
         "the 16-bit sources were not listed")
    labels = {label.text for label in browser.find_elements(By.CSS_SELECTOR, "label.source")}
    assert any("thermal" in text and "16-bit thermal" in text for text in labels), labels
    assert any("depth" in text and "16-bit depth" in text for text in labels), labels
    if frames(browser, "depth") < 0:
        toggle(browser, "depth")
    for name in ("thermal", "depth"):
        wait(browser, lambda d, name=name: frames(d, name) >= 2, f"no frame of {name!r}")
    thermal = tile(browser, "thermal").find_element(By.CLASS_NAME, "tile-stats").text
    assert "range 10000\u201350000" in thermal, thermal
    depth = tile(browser, "depth").find_element(By.CLASS_NAME, "tile-stats").text
    assert "depth " in depth and " m" in depth, depth
    save_screenshot(browser, tmp_path, "viewer-16-bit.png")
