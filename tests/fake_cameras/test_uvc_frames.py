"""The UVC frame shapes: each quirk changes exactly what it names."""

from __future__ import annotations

import numpy as np
import pytest
from camera_service.core.jpeg import segment_spans

from fake_cameras import uvc_frames


@pytest.fixture(scope="module")
def jpeg():
    return uvc_frames.encode(np.full((24, 32, 3), 90, np.uint8))


def _markers(data):
    return [marker for marker, _, _ in segment_spans(data)]


def test_no_dht_and_avi1_drop_the_tables_and_keep_the_image_data(jpeg):
    assert 0xC4 in _markers(jpeg)
    for quirk in ("no_dht", "avi1"):
        sent = uvc_frames.uvc_frame(jpeg, quirk)
        assert 0xC4 not in _markers(sent)
        assert sent[uvc_frames.scan_start(sent):] == jpeg[uvc_frames.scan_start(jpeg):]
    assert uvc_frames.uvc_frame(jpeg, "avi1")[2:].startswith(uvc_frames.AVI1_APP0)


def test_padding_truncation_and_declared_size(jpeg):
    padded = uvc_frames.uvc_frame(jpeg, "padding")
    assert padded.startswith(jpeg) and set(padded[len(jpeg):]) == {0}
    truncated = uvc_frames.uvc_frame(jpeg, "truncated")
    assert jpeg.startswith(truncated) and uvc_frames.scan_start(jpeg) < len(truncated)
    resized = uvc_frames.uvc_frame(jpeg, "wrong_size")
    assert len(resized) == len(jpeg) and resized != jpeg
    assert uvc_frames.with_declared_size(resized, 32, 24) == jpeg


def test_every_quirk_is_known_and_others_are_refused(jpeg):
    assert {uvc_frames.uvc_frame(jpeg, quirk) for quirk in uvc_frames.QUIRKS} != {jpeg}
    with pytest.raises(ValueError, match="unknown quirk"):
        uvc_frames.uvc_frame(jpeg, "sideways")
