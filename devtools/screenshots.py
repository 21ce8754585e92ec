"""``python -m devtools.screenshots [--out docs]``: the settings page's screenshots in the
docs, taken from the real page in Chromium.

It starts the robot simulator and the camera service in this process, with a fake V4L2
world (one camera configured, one only present) and a synthetic source, logs in with the
robot's user, and saves:
- ``settings-page.png``: status and live preview;
- ``settings-page-controls.png``: the live camera controls;
- ``settings-page-sources.png``: the source editor;
- ``settings-page-cameras.png``: the cameras present, with "Add this camera".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

from devtools.chromium import NoChromium, chromium
from devtools.polling import wait_for
from devtools.world_stack import world_stack
from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World
from robot_sim import RobotSimulator

SECTIONS = {"settings-page-controls.png": "live-controls",
            "settings-page-sources.png": "editor",
            "settings-page-cameras.png": "cameras"}


def take(out: Path) -> List[Path]:
    """Run the stack and save every screenshot into ``out``; returns the files."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp, \
            RobotSimulator(state_dir=Path(tmp) / "robot") as sim:
        world = FakeV4L2World(tmp)
        world.plug(FakeCamera(serial="FRONT1", usb_port="1", paced=True))
        world.plug(FakeCamera(model="Brio", vendor="Logitech", serial="FREE2", usb_port="2",
                              paced=True))
        front = next(path for path in world.tree().nodes()[0].stable_paths
                     if "/by-id/" in path)
        sources = [{"name": "front", "type": "v4l2", "device": front, "width": 640,
                    "height": 480, "fps": 15, "format": "MJPG"},
                   {"name": "test-pattern", "type": "synthetic", "width": 640,
                    "height": 480, "fps": 10}]
        with world_stack(sim, world, Path(tmp), sources) as stack, \
                chromium(1400, 1300) as driver:
            driver.get(stack.url)
            wait_for(lambda: driver.find_element(By.ID, "login").is_displayed(), 30)
            driver.find_element(By.ID, "username").send_keys(sim.username)
            driver.find_element(By.ID, "password").send_keys(sim.password)
            driver.find_element(By.ID, "login-button").click()

            def streaming() -> bool:
                rows = driver.find_elements(By.CSS_SELECTOR,
                                            '#source-status tr[data-state="streaming"]')
                tiles = driver.find_elements(By.CSS_SELECTOR, ".tile[data-frames]")
                return len(rows) == 2 and all(
                    int(t.get_attribute("data-frames") or 0) >= 3 for t in tiles)

            wait_for(streaming, 60, "both sources streaming on the page")
            Select(driver.find_element(By.ID, "controls-source")).select_by_value("front")
            wait_for(lambda: driver.find_elements(By.ID, "control-brightness"), 30,
                     "the controls of 'front'")
            wait_for(lambda: "FREE2" in driver.find_element(By.ID, "camera-list").text, 30,
                     "the cameras present")
            driver.execute_script("window.scrollTo(0, 0)")
            path = out / "settings-page.png"
            driver.save_screenshot(str(path))
            saved.append(path)
            for name, section in SECTIONS.items():
                element = driver.find_element(By.ID, section)
                driver.execute_script("arguments[0].scrollIntoView()", element)
                path = out / name
                element.screenshot(str(path))
                saved.append(path)
    return saved


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.screenshots",
                                     description="The settings page's screenshots in the "
                                     "docs, from the real page in Chromium.")
    parser.add_argument("--out", default="docs", help="folder to write them to (docs)")
    args = parser.parse_args(argv)
    try:
        for path in take(Path(args.out)):
            print(path)
    except NoChromium as err:
        print(f"screenshots: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
