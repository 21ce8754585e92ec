"""URL credentials found, encoded and redacted, whatever characters the password holds."""

from __future__ import annotations

import logging
import urllib.parse

import pytest
from camera_service.core import redaction
from camera_service.core.redaction import (
    ScrubbingFormatter,
    normalize_url,
    redact_url,
    register_secret,
    scrub,
    split_url,
)

# (url, user, password, rest): unencoded characters a parser would misread.
CASES = [
    ("rtsp://admin:pw@cam/stream", "admin", "pw", "cam/stream"),
    ("rtsp://admin:p#ss@cam/stream", "admin", "p#ss", "cam/stream"),
    ("rtsp://admin:pa/ss@192.168.50.20:554/stream1", "admin", "pa/ss",
     "192.168.50.20:554/stream1"),
    ("rtsp://admin:wh?t@cam/s?channel=1", "admin", "wh?t", "cam/s?channel=1"),
    ("http://admin:p@ss@cam:8080/video.mjpg", "admin", "p@ss", "cam:8080/video.mjpg"),
    ("http://admin:a:b:c@cam/", "admin", "a:b:c", "cam/"),
    ("rtsp://u:#/?@:x@[fe80::1]:554/live", "u", "#/?@:x", "[fe80::1]:554/live"),
    ("rtsp://admin:p%40ss%3Aword@cam/x", "admin", "p@ss:word", "cam/x"),
    ("http://tok3n@cam/snap.jpg", "tok3n", None, "cam/snap.jpg"),
    ("rtsp://admin:pw@cam", "admin", "pw", "cam"),
    ("rtsp://u:a#b@cam:notaport/x", "u", "a#b", "cam:notaport/x"),  # the port fails later
]


@pytest.mark.parametrize("url,user,password,rest", CASES)
def test_split_finds_the_credentials(url, user, password, rest):
    parts = split_url(url)
    assert (parts.user, parts.password, parts.rest) == (user, password, rest)
    assert parts.bare == f"{url.split('://')[0]}://{rest}"


@pytest.mark.parametrize("url,user,password,rest", CASES)
def test_normalized_url_parses_as_intended(url, user, password, rest):
    parts = urllib.parse.urlsplit(normalize_url(url))
    userinfo, _, host = parts.netloc.rpartition("@")
    name, _, secret = userinfo.partition(":")
    assert urllib.parse.unquote(name) == user
    assert (urllib.parse.unquote(secret) if password is not None else None) == password
    assert f"{host}{parts.path}" + (f"?{parts.query}" if parts.query else "") == rest


@pytest.mark.parametrize("url,user,password,rest", CASES)
def test_redacted_url_holds_no_credential(url, user, password, rest):
    shown = redact_url(url)
    assert shown == f"{url.split('://')[0]}://***@{rest}"
    for secret in (user, password):
        if secret and len(secret) > 2:
            assert secret not in shown.replace("***", "")


@pytest.mark.parametrize("url", [
    "http://cam/snap@2x.jpg",          # an @ in the path, no credentials
    "http://cam/x?mail=a@b.com",
    "http://127.0.0.1:8081/stream.mjpg",
    "/dev/video0",
    "clip.avi",
])
def test_urls_without_credentials_are_unchanged(url):
    assert not split_url(url).has_credentials
    assert normalize_url(url) == url
    assert redact_url(url) == url


def test_scrub_masks_credentials_in_free_text():
    text = ("cannot open rtsp://admin:p#ss/w?rd@cam/stream (user admin); "
            "also http://x:y@z@h/v and http://cam/ok")
    assert scrub(text) == ("cannot open rtsp://***@cam/stream (user admin); "
                           "also http://***@h/v and http://cam/ok")


@pytest.mark.parametrize("text,shown", [
    ("(rtsp://u:p/w@cam)", "(rtsp://***@cam)"),
    ("'rtsp://u:p#x@cam/s', next", "'rtsp://***@cam/s', next"),
    ("no camera at /dev/v4l/by-id/rtsp://u:p?q@cam.", "no camera at /dev/v4l/by-id/rtsp://***@cam."),
    ("see http://cam/snap@2x.jpg", "see http://cam/snap@2x.jpg"),
])
def test_scrub_handles_urls_inside_punctuation(text, shown):
    assert scrub(text) == shown


def test_registered_secrets_are_masked_in_any_form():
    secret = "zz-Secret w/ space#1"
    register_secret(secret)
    encoded = urllib.parse.quote(secret, safe="")
    assert scrub(f"a {secret} b {encoded} c") == "a *** b *** c"


def test_short_secrets_are_not_registered():
    register_secret("ab")
    assert scrub("tab stab") == "tab stab"


def test_splitting_registers_the_password():
    split_url("rtsp://someone:Very$Unusual-Pw@cam/x")
    assert scrub("echoed Very$Unusual-Pw") == "echoed ***"


def test_formatter_scrubs_message_and_traceback():
    formatter = ScrubbingFormatter("%(levelname)s %(message)s")
    try:
        raise RuntimeError("failed on rtsp://u:hunter2-pw@cam/x")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "open %s", (
            "http://u:other-pw@cam/",), exc_info=__import__("sys").exc_info())
    line = formatter.format(record)
    assert "hunter2-pw" not in line and "other-pw" not in line
    assert "http://***@cam/" in line and "rtsp://***@cam/x" in line


def test_scrub_log_handlers_keeps_the_format():
    logger = logging.getLogger("redaction-test")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("X %(message)s"))
    logger.addHandler(handler)
    try:
        redaction.scrub_log_handlers(logger)
        assert isinstance(handler.formatter, ScrubbingFormatter)
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "rtsp://a:bcdef@h", (), None)
        assert handler.formatter.format(record) == "X rtsp://***@h"
    finally:
        logger.removeHandler(handler)


def test_redact_values_masks_every_string_of_a_json_value():
    from camera_service.core.redaction import is_redacted, redact_values

    secret = "s p#a/c?e@:d"  # a space too: free-text scrubbing alone would stop there
    url = f"rtsp://user:{secret}@cam:554/x"
    shown = redact_values({"a": [url, {"b": f"failed: {url}"}], "n": 3, "t": None})
    assert shown["n"] == 3 and shown["t"] is None
    assert shown["a"][0] == "rtsp://***@cam:554/x" and is_redacted(shown["a"][0])
    assert secret not in repr(shown)
    assert not is_redacted("rtsp://cam/x") and not is_redacted("/dev/video0")
