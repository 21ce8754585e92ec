"""Units of the viewer's clips: pacing with an injected clock, the file name of a download,
query numbers, a file that is not a clip. The clips from the robot are tested end to end in
tests/service/clips/test_clips_viewer.py."""

from __future__ import annotations

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from camera_service.web.errors import BadRequest

from viewer.clip_play import ClipFile, paced
from viewer.clips import ClipUnreadable, filename_of, is_clip
from viewer.http_api import _int_param


class FakeClock:
    """A clock that moves only when the player waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 6))
        self.now += seconds
        return False


def test_paced_releases_each_frame_at_its_time_from_the_first():
    clock = FakeClock()
    frames = [(5.0, b"a"), (5.1, b"b"), (5.25, b"c"), (5.25, b"d")]
    assert list(paced(frames, clock.wait, clock)) == [b"a", b"b", b"c", b"d"]
    assert clock.waits == [0.1, 0.15]  # none before the first, none for an equal time


def test_paced_does_not_catch_up_by_waiting_when_late():
    clock = FakeClock()
    out = []
    for jpeg in paced([(0.0, b"a"), (0.1, b"b"), (0.2, b"c")], clock.wait, clock):
        out.append(jpeg)
        if jpeg == b"a":
            clock.now += 0.15  # sending the first frame took long: b is due already
    assert out == [b"a", b"b", b"c"]
    assert clock.waits == [0.05]


def test_paced_ends_when_the_viewer_stops():
    clock = FakeClock()
    frames = [(0.0, b"a"), (1.0, b"b")]
    assert list(paced(frames, lambda seconds: True, clock)) == [b"a"]


def test_download_file_name_is_safe_for_a_header_and_a_file_system():
    data_id = daq.DataIdentifier(
        action_id=daq.CaptureActionId(action_name='Gauge "7"/../x', group_name="2026 run"),
        channel="front-clip", data_name="clip", id=12)
    assert filename_of(data_id) == "2026 run Gauge _7__.._x front-clip.mkv"
    assert filename_of(daq.DataIdentifier(id=3)) == "clip 3.mkv"


def test_only_the_plugins_mkv_pieces_are_clips():
    assert is_clip(daq.DataIdentifier(channel="front-clip", data_name="clip"))
    assert not is_clip(daq.DataIdentifier(channel="front-clip", data_name="metadata"))
    assert not is_clip(daq.DataIdentifier(channel="front", data_name="clip"))


@pytest.mark.parametrize("text", ["0", "501", "-1", "ten", ""])
def test_bad_page_size_is_one_line(text):
    with pytest.raises(BadRequest) as raised:
        _int_param({"limit": [text]}, "limit", 50, 1, 500)
    assert raised.value.message == f"limit={text!r} is not a whole number in 1..500"


def test_page_size_default_and_value():
    assert _int_param({}, "limit", 50, 1, 500) == 50
    assert _int_param({"limit": ["7"]}, "limit", 50, 1, 500) == 7


def test_a_file_that_is_not_a_clip_is_one_line(tmp_path):
    path = tmp_path / "not-a-clip.mkv"
    path.write_bytes(b"this is not Matroska")
    with pytest.raises(ClipUnreadable) as raised:
        ClipFile(str(path))
    assert raised.value.http_status == 502
    assert "\n" not in raised.value.message
