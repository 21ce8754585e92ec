"""Debian's Chromium, headless, driven by selenium through chromedriver: the browser tests'
and the docs' screenshots (``devtools.screenshots``)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


class NoChromium(RuntimeError):
    """Chromium or chromedriver is not installed."""


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator:
    """A selenium driver of a fresh headless Chromium profile (self-signed certificates
    accepted: the settings page's); quit on leaving. Raises ``NoChromium``."""
    if not available():
        raise NoChromium("needs Debian's chromium and chromium-driver (apt-get install "
                         "chromium chromium-driver, or run tools/provision.sh)")
    from selenium import webdriver

    profile = tempfile.mkdtemp(prefix="viewer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}", "--ignore-certificate-errors",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
