"""Fixtures of the viewer tests: the whole stack (see ``viewer_stack``) and a headless
Chromium driven by selenium."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from viewer_stack import ViewerStack, start_stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def stack() -> Iterator[ViewerStack]:
    """The whole stack, shared by the tests of one module (tests that take the robot away
    must let it come back)."""
    state_dir = Path(tempfile.mkdtemp(prefix="viewer-stack-"))
    sim, service, viewer = start_stack(state_dir)
    try:
        yield ViewerStack(sim, service, viewer)
    finally:
        viewer.stop()
        service.stop()
        sim.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by selenium through chromedriver."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver, or run tools/provision.sh)")
    from selenium import webdriver

    profile = tempfile.mkdtemp(prefix="viewer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
