"""Fixtures for the camera service tests. Helpers live in ``service_test_helpers``."""

from __future__ import annotations

import bosdyn.client.channel
import pytest
from browser_page import chromium
from camera_service.app.service import CameraService
from service_test_helpers import QUICK_RETRY, LocalImageService

from fake_cameras.failing_camera import failing_cameras


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
    """Factory: ``run_service(config, failing=False)`` -> a started ``CameraService``, stopped
    after. ``failing``: its synthetic cameras are ``FailingCamera``s a test can make fail."""
    started = []

    def start(config, failing=False):
        sources = failing_cameras(config) if failing else None
        # quick retries keep the tests short
        service = CameraService(config, sources=sources, retry=QUICK_RETRY)
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def started():
    """Services a test started itself (e.g. ``clip_helpers.start_clip_service``), stopped
    after the test."""
    services: list = []
    yield services
    for service in services:
        service.stop()


@pytest.fixture
def created_channels(monkeypatch):
    """(authority, options) of every secure channel the SDK creates during the test."""
    created = []
    original = bosdyn.client.channel.create_secure_channel

    def spy(address, port, creds, authority, options=()):
        created.append((authority, dict(options)))
        return original(address, port, creds, authority, options)

    monkeypatch.setattr(bosdyn.client.channel, "create_secure_channel", spy)
    return created


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for a test module (the viewer's and the settings page's tests)."""
    with chromium() as driver:
        yield driver
