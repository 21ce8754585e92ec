"""Fixtures for the camera service tests. Helpers live in ``service_test_helpers``."""

from __future__ import annotations

import pytest
from service_test_helpers import LocalImageService, wait_for

__all__ = ["wait_for"]  # kept importable for tests that still do `from conftest import`


@pytest.fixture
def local_service():
    """Factory: ``local_service(source, ...)`` -> a started ``LocalImageService``."""
    started = []

    def start(*sources, **kwargs):
        service = LocalImageService(sources, **kwargs).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
