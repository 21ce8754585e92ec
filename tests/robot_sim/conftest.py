"""Fixtures for the robot simulator tests."""

from __future__ import annotations

from typing import Iterator

import pytest
from robot_sim_tiny_images import ImageServer


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    """A tiny image service listening on 127.0.0.1 (plain gRPC, as payload services do)."""
    server = ImageServer()
    yield server
    server.server.stop(None)
