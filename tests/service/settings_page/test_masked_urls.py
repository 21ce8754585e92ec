"""Masked camera URLs from the page get their stored credentials back, only when they stand
for the same source's same URL; a changed user or host with the mask is refused."""

from __future__ import annotations

import pytest
from camera_service.core.errors import ConfigError
from camera_service.core.redaction import redact_url
from camera_service.settings_page.masked_urls import keep_stored_passwords

SECRET = "p#ss/w?rd@:9 x"
STORED_URL = f"rtsp://camuser:{SECRET}@10.0.0.7:554/stream?ch=1"
STORED = [{"name": "ip", "type": "url", "url": STORED_URL, "timeout": 2},
          {"name": "usb", "type": "v4l2", "device": "/dev/video0"}]


def test_masked_url_of_the_same_source_gets_the_stored_one_back():
    masked = redact_url(STORED_URL)
    assert SECRET not in masked and masked == "rtsp://***@10.0.0.7:554/stream?ch=1"
    page = [{"name": "ip", "type": "url", "url": masked, "timeout": 5}]
    assert keep_stored_passwords(page, STORED) == [
        {"name": "ip", "type": "url", "url": STORED_URL, "timeout": 5}]


def test_user_typed_back_with_the_masked_password_matches():
    page = [{"name": "ip", "type": "url", "url": "rtsp://camuser:***@10.0.0.7:554/stream?ch=1"}]
    assert keep_stored_passwords(page, STORED)[0]["url"] == STORED_URL


def test_new_password_or_no_credentials_is_taken_as_given():
    for url in ("rtsp://camuser:n3w-pass@10.0.0.7:554/stream?ch=1",
                "rtsp://10.0.0.7:554/stream?ch=1"):
        page = [{"name": "ip", "type": "url", "url": url}]
        assert keep_stored_passwords(page, STORED)[0]["url"] == url


@pytest.mark.parametrize("name, url", [
    ("ip", "rtsp://***@10.0.0.8:554/stream?ch=1"),             # host changed
    ("ip", "rtsp://other:***@10.0.0.7:554/stream?ch=1"),       # user changed
    ("ip", "rtsp://***:typed-new@10.0.0.7:554/stream?ch=1"),   # masked user, new password
    ("renamed", "rtsp://***@10.0.0.7:554/stream?ch=1"),        # another source's URL
], ids=["host", "user", "masked-user", "renamed"])
def test_mask_without_a_stored_match_is_refused(name, url):
    with pytest.raises(ConfigError) as caught:
        keep_stored_passwords([{"name": name, "type": "url", "url": url}], STORED)
    assert caught.value.key == "sources[0].url"
    assert "type the user and password" in caught.value.problem


def test_masked_urls_nested_in_options_are_restored():
    stored = [{"name": "ip", "type": "url", "extra": {"urls": [STORED_URL]}}]
    page = [{"name": "ip", "type": "url", "extra": {"urls": [redact_url(STORED_URL)]}}]
    assert keep_stored_passwords(page, stored) == stored
