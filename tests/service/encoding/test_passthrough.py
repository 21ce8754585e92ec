"""The passthrough policy decision."""

from __future__ import annotations

import pytest
from camera_service.encoding.passthrough import THIN_LINK_MARGIN, serves_camera_bytes


@pytest.mark.parametrize(("requested", "camera"), [(75, 90), (10, 90), (100, 50), (0, None),
                                                   (75, None)])
def test_auto_always_serves_the_cameras_bytes(requested, camera):
    assert serves_camera_bytes("auto", requested, camera)
    assert not serves_camera_bytes("never", requested, camera)


@pytest.mark.parametrize(("requested", "camera", "expected"), [
    (0, 90, True),  # unset: the camera's own
    (0, None, True),
    (90 - THIN_LINK_MARGIN + 1, 90, True),  # not clearly lower
    (90 - THIN_LINK_MARGIN, 90, False),  # clearly lower: re-encoded
    (75, 90, False),
    (95, 90, True),
    (75, None, False),  # unknown camera quality: the request is honoured
])
def test_thin_link_honours_only_a_clearly_lower_quality(requested, camera, expected):
    assert serves_camera_bytes("thin-link", requested, camera) is expected


def test_unknown_policy_is_a_programming_error():
    with pytest.raises(ValueError):
        serves_camera_bytes("sometimes", 75, 90)
