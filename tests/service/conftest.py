"""Fixtures for the camera service tests. Helpers live in ``service_test_helpers``."""

from __future__ import annotations

import pytest
from camera_service.app import CameraService
from service_test_helpers import QUICK_RETRY, LocalImageService, wait_for

__all__ = ["wait_for"]  # kept importable for tests that still do `from conftest import`


@pytest.fixture
def local_service():
    """Factory: ``local_service(source, ..., wait_for_frames=True)`` -> a started
    ``LocalImageService``, stopped after the test."""
    started = []

    def start(*sources, wait_for_frames=True, **service):
        local = LocalImageService(sources, **service)
        started.append(local)
        return local.start(wait_for_frames)

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def run_service():
    """Factory: ``run_service(config)`` -> a started ``CameraService``, stopped after."""
    started = []

    def start(config):
        service = CameraService(config, retry=QUICK_RETRY)  # quick retries keep tests short
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
