"""Long-option prefixes expanded as the SDK example's parsers accept them."""

from __future__ import annotations

import argparse

import pytest
from camera_service.cli.abbreviations import AbbreviationError, expand


def _parser():
    parser = argparse.ArgumentParser(allow_abbrev=False)
    for option in ("--host-ip", "--port", "--payload-credentials-file", "--codec", "--config"):
        parser.add_argument(option)
    parser.add_argument("--device-name", "--device", dest="devices")
    return parser


EXAMPLE = ("--host-ip", "--port", "--payload-credentials-file", "--codec", "--device-name")


@pytest.mark.parametrize(("argv", "expanded"), [
    (["--host", "h"], ["--host-ip", "h"]),
    (["--dev", "0"], ["--device-name", "0"]),
    (["--device", "0"], ["--device", "0"]),          # an option in full stays as written
    (["--po=1", "x"], ["--port=1", "x"]),
    (["--c", "MJPG"], ["--codec", "MJPG"]),          # the example's option wins
    (["--", "--host"], ["--", "--host"]),
    (["--nothing", "-v"], ["--nothing", "-v"]),      # argparse reports it
])
def test_prefixes_are_written_out(argv, expanded):
    assert expand(argv, _parser(), EXAMPLE) == expanded


def test_an_ambiguous_prefix_names_the_candidates():
    with pytest.raises(AbbreviationError) as caught:
        expand(["--p", "1"], _parser(), EXAMPLE)
    assert caught.value.prefix == "--p"
    assert "--payload-credentials-file, --port" in caught.value.problem


def test_without_preference_our_options_are_ambiguous():
    with pytest.raises(AbbreviationError):
        expand(["--co", "x"], _parser())
