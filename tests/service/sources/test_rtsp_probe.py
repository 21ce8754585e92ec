"""An RTSP camera FFmpeg cannot open: the one line names the step that failed (connect,
authenticate, stream path, codec), asked of the camera itself; no password in it."""

from __future__ import annotations

import socket

import pytest
from camera_service.core.errors import CredentialsRefused, SourceUnavailable
from camera_service.sources.base import SourceSettings
from camera_service.sources.rtsp_probe import diagnose
from camera_service.sources.url import UrlSource

from fake_cameras.rtsp_answers import RtspAnswers

PASSWORD = "p#ss/w?rd"


@pytest.fixture(scope="module")
def camera():
    with RtspAnswers({"/stream1"}, user="admin", password=PASSWORD) as running:
        yield running


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("credentials, path, step, words", [
    (f"admin:{PASSWORD}", "/stream1", "codec", "describes a stream (H265)"),
    (f"admin:{PASSWORD}", "/nope", "path", "no stream at"),
    ("admin:wrong", "/stream1", "authenticate", "refused the user name or password"),
    ("", "/stream1", "authenticate", "refused the user name or password"),
])
def test_the_failed_step_is_named(camera, credentials, path, step, words):
    found = diagnose(camera.url(path, credentials), "rtsp://***@camera/x", timeout=2)
    assert found.step == step and words in found.message
    assert PASSWORD not in found.message and "\n" not in found.message


def test_nothing_listening_is_a_connect_failure():
    found = diagnose(f"rtsp://127.0.0.1:{_closed_port()}/stream1", "rtsp://camera", 2)
    assert found.step == "connect" and "cannot connect to 127.0.0.1" in found.message


def test_the_source_says_it_in_one_line_and_refused_credentials_retry_slowly(camera):
    wrong = UrlSource(SourceSettings("cam", options={
        "url": camera.url("/stream1", "admin:wrong"), "timeout": 2}))
    with pytest.raises(CredentialsRefused) as refused:
        wrong.open()
    assert "(authenticate)" in str(refused.value) and "wrong" not in str(refused.value)
    missing = UrlSource(SourceSettings("cam", options={
        "url": camera.url("/nope", f"admin:{PASSWORD}"), "timeout": 2}))
    with pytest.raises(SourceUnavailable) as unavailable:
        missing.open()
    assert "(path)" in str(unavailable.value) and PASSWORD not in str(unavailable.value)
    assert not isinstance(unavailable.value, CredentialsRefused)
