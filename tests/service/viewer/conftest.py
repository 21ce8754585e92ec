"""Fixtures of the viewer tests: the whole stack (see ``viewer_stack``); the headless
Chromium (``browser``) is tests/service/conftest.py's."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from viewer_stack import ViewerStack, start_stack


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
