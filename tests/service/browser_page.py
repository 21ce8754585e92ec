"""Selenium helpers for the viewer page: find tiles, count their frames, wait, click."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from devtools.chromium import available
from devtools.chromium import chromium as open_chromium

TIMEOUT = 20
# Draws a tile's current image onto a canvas: the pixels the page shows, as a data URL;
# null while the image's next frame is still loading (naturalWidth 0), so a caller waits
# instead of comparing an empty canvas (``loaded_pixels``).
PIXELS_JS = """
const img = arguments[0];
if (!img.complete || img.naturalWidth === 0) return null;
const canvas = document.createElement('canvas');
canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
canvas.getContext('2d').drawImage(img, 0, 0);
return canvas.toDataURL('image/png');
"""


def tile(driver, source):
    found = driver.find_elements(By.CSS_SELECTOR, f'.tile[data-source="{source}"]')
    return found[0] if found else None


def frames(driver, source) -> int:
    element = tile(driver, source)
    return int(element.get_attribute("data-frames")) if element else -1


def wait(driver, condition, message, timeout=TIMEOUT):
    def check(drv):
        try:
            return condition(drv)
        except WebDriverException:  # element replaced between lookups: ask again
            return False

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check, message)


def loaded_pixels(driver, image, message="the image never finished loading"):
    """``(pixels, natural width)`` of ``image`` once a frame of it is decoded, both read in
    one script call (a frame arriving meanwhile cannot split them)."""
    script = ("const pixels = (function () {" + PIXELS_JS + "}).apply(null, arguments);"
              "return pixels === null ? null : [pixels, arguments[0].naturalWidth];")
    return wait(driver, lambda d: d.execute_script(script, image), message)


def toggle(driver, source):
    driver.find_element(By.CSS_SELECTOR, f'input[data-source="{source}"]').click()


def save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Screenshot into the test's tmp dir (and $VIEWER_SCREENSHOT_DIR when set, to look at)."""
    path = tmp_path / name
    driver.save_screenshot(str(path))
    keep = os.environ.get("VIEWER_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


@contextlib.contextmanager
def chromium():
    """Debian's Chromium for one test (``devtools.chromium``); skipped where there is none."""
    if not available():
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver, or run tools/provision.sh)")
    with open_chromium() as driver:
        yield driver
