"""Malformed requests: each answered CODE_INVALID_REQUEST, counted, logged once per interval
per kind (no traceback per request); well-formed requests are served as before."""

from __future__ import annotations

import logging
import os

import pytest
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc
from camera_service.serving.malformed import RateLimitedLog
from service_test_helpers import LocalImageService, synthetic

CODE_INVALID = header_pb2.CommonError.CODE_INVALID_REQUEST


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_interval_per_kind(caplog):
    clock = _Clock()
    log = RateLimitedLog(interval=10, clock=clock)
    with caplog.at_level(logging.WARNING):
        written = [log.note("malformed GetImage request", "x") for _ in range(1000)]
        written.append(log.note("malformed ListImageSources request", "y"))
        clock.now += 10.5
        written.append(log.note("malformed GetImage request", "x"))
    assert written.count(True) == 3 and written[0] and written[-2] and written[-1]
    assert "999 more since the last such line" in caplog.records[-1].getMessage()
    assert log.counts() == {"malformed GetImage request": 1001,
                            "malformed ListImageSources request": 1}


@pytest.fixture
def guarded_service():
    """The service's own wiring (which registers through ``add_image_service``)."""
    local = LocalImageService([synthetic()]).start()
    yield local.channel, local.service.malformed
    local.stop()


def test_garbage_is_answered_and_logged_once(guarded_service, caplog):
    channel, log = guarded_service
    raw = {rpc: channel.unary_unary(f"/bosdyn.api.ImageService/{rpc}") for rpc in
           ("GetImage", "ListImageSources")}
    with caplog.at_level(logging.DEBUG):
        for i in range(300):
            reply = raw["GetImage" if i % 3 else "ListImageSources"](
                b"\xff\xff\xff\xff\x0f" + os.urandom(i % 50), timeout=5)
            parsed = image_pb2.GetImageResponse.FromString(reply)
            assert parsed.header.error.code == CODE_INVALID
        stub = image_service_pb2_grpc.ImageServiceStub(channel)
        (ok,) = stub.GetImage(image_pb2.GetImageRequest(image_requests=[
            image_pb2.ImageRequest(image_source_name="cam", quality_percent=75)]),
            timeout=5).image_responses
    assert ok.status == image_pb2.ImageResponse.STATUS_OK
    assert log.counts() == {"malformed GetImage request": 200,
                            "malformed ListImageSources request": 100}
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2
    assert not any(r.exc_info for r in caplog.records)
