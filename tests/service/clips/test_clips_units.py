"""Units of the clips stage: the pre-roll ring, its budget line, the plugin's parameters and
deadline, the clips config keys."""

from __future__ import annotations

import logging

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from camera_service.capture.camera_state import CameraStatus
from camera_service.capture.frame_store import FrameStore
from camera_service.clips.budget import RingBudget
from camera_service.clips.plugin import ClipPlugin, ClipSource, clip_params, make_capability
from camera_service.clips.ring import FrameRing
from camera_service.config.model import from_mapping
from camera_service.core.errors import ConfigError
from camera_service.core.memory_limits import MIB, BudgetLimits
from camera_service.sources.base import Frame
from google.protobuf.timestamp_pb2 import Timestamp

from robot_sim.daq_helpers import dict_param


def _frame(sequence: int, at: float, size: int = 1000) -> Frame:
    """A frame of ``size`` JPEG bytes (the ring counts bytes, never decodes)."""
    return Frame(sequence, at, 64, 48, jpeg=b"\xff\xd8" + b"x" * (size - 2))


def _ring(pre_roll_s: float = 1.0, max_bytes: int = 10**9) -> tuple:
    store = FrameStore()
    ring = FrameRing("front", pre_roll_s, RingBudget(max_bytes, 512 * MIB, "the test"))
    ring.attach(store)
    return store, ring


def test_ring_keeps_the_pre_roll_by_capture_time_as_references():
    store, ring = _ring(pre_roll_s=1.0)
    frames = [_frame(i, 100 + i * 0.1) for i in range(40)]  # 10 fps for 4 s
    for frame in frames:
        store.put("front", frame)
    held, stop = ring.follow(0.0, lambda stored: None)
    stop()
    # the pre-roll and the arrival margin (1 s), and one frame at or before their start, so
    # a clip can start right at it
    assert [s.frame.sequence for s in held] == list(range(19, 40))
    assert all(s.frame is frames[s.frame.sequence] for s in held)  # the same objects


def test_ring_over_its_budget_keeps_less_and_says_so_once(caplog):
    store, ring = _ring(pre_roll_s=10.0, max_bytes=5000)
    with caplog.at_level(logging.WARNING):
        for i in range(30):
            store.put("front", _frame(i, 100 + i * 0.1))
    assert ring.held_bytes <= 5000
    lines = [r.getMessage() for r in caplog.records if "clips of camera" in r.getMessage()]
    assert len(lines) == 1
    assert "memory limit (512 MiB from the test)" in lines[0]
    assert "sources.front.clips.pre_roll_s" in lines[0] and "\n" not in lines[0]


def test_following_the_ring_misses_and_repeats_nothing():
    store, ring = _ring(pre_roll_s=5.0)
    for i in range(10):
        store.put("front", _frame(i, 100 + i * 0.1))
    seen = []
    held, stop = ring.follow(100.45, seen.append)
    for i in range(10, 15):
        store.put("front", _frame(i, 100 + i * 0.1))
    store.withdraw("front")
    stop()
    store.put("front", _frame(15, 101.5))
    assert [s.frame.sequence for s in held] == [5, 6, 7, 8, 9]
    assert [s and s.frame.sequence for s in seen] == [10, 11, 12, 13, 14, None]
    assert ring.held_bytes == 1000  # the failure emptied it; one frame since


def test_detached_ring_holds_nothing():
    store, ring = _ring()
    store.put("front", _frame(1, 100.0))
    ring.detach()
    store.put("front", _frame(2, 100.1))
    assert ring.held_bytes == 0


def test_ring_share_splits_a_quarter_of_the_working_room():
    limits = BudgetLimits.from_limit(512 * MIB)
    assert RingBudget.share_of(limits, 4).max_bytes == (512 - 160) * MIB // 4 // 4


def _source() -> ClipSource:
    """A clip source whose ring keeps 3 s (nothing is recorded in these tests)."""
    ring = FrameRing("front", 3.0, RingBudget(10 * MIB, 512 * MIB, "the test"))
    return ClipSource(name="front", ring=ring, status=CameraStatus, controls=list,
                      describe=str, kind="synthetic", jpeg_of=bytes, geometry=type(None))


def _plugin(now: float = 1000.0) -> ClipPlugin:
    def robot_time(local: float) -> Timestamp:
        stamp = Timestamp()
        stamp.FromNanoseconds(int((local + 50) * 1e9))  # the robot's clock is 50 s ahead
        return stamp

    return ClipPlugin([_source()], robot_time, lambda stamp: stamp.ToNanoseconds() / 1e9 - 50,
                      now=lambda: now)


def _request(**params) -> daq.AcquirePluginDataRequest:
    capture = daq.DataCapture(name="front-clip")
    if params:
        capture.custom_params.CopyFrom(dict_param(params))
    return daq.AcquirePluginDataRequest(
        acquisition_requests=daq.AcquisitionRequestList(data_captures=[capture]))


def test_capability_offers_duration_and_the_pre_roll_the_ring_keeps():
    capability = make_capability(_source())
    specs = capability.custom_params.specs
    assert capability.name == capability.channel_name == "front-clip"
    duration = specs["duration_s"].spec.int_spec
    assert (duration.min_value.value, duration.max_value.value,
            duration.default_value.value) == (1, 60, 10)
    pre_roll = specs["pre_roll_s"].spec.double_spec
    assert (pre_roll.min_value.value, pre_roll.max_value.value,
            pre_roll.default_value.value) == (0.0, 3.0, 2.0)
    assert clip_params(_request().acquisition_requests.data_captures[0]) == (10.0, 2.0)


@pytest.mark.parametrize(("duration", "extended"), [(5, False), (10, False), (30, True),
                                                     (60, True)])
def test_clips_longer_than_the_robot_waits_extend_its_deadline(duration, extended):
    plugin = _plugin(now=1000.0)
    response = daq.AcquirePluginDataResponse()
    assert plugin.acquire_response(_request(duration_s=duration, pre_roll_s=2.0), response)
    assert response.HasField("timeout_deadline") == extended
    if extended:  # in the robot's clock, past the clip's end plus storing it
        deadline = response.timeout_deadline.ToNanoseconds() / 1e9
        assert deadline >= 1000 + 50 + duration + 2


def test_action_time_is_the_requests_robot_stamp_in_local_time():
    plugin = _plugin(now=2000.0)
    request = _request()
    request.action_id.timestamp.FromNanoseconds(int(1550.5 * 1e9))
    assert plugin._action_time(request) == pytest.approx(1500.5)
    assert plugin._action_time(_request()) == 2000.0  # no stamp: now


def _config(clips) -> object:
    return from_mapping({"sources": [{"name": "front", "type": "synthetic", "clips": clips}]})


def test_clips_config_keys():
    settings = _config({"enabled": True, "pre_roll_s": 4}).sources[0].settings
    assert (settings.clips.enabled, settings.clips.pre_roll_s) == (True, 4.0)
    assert not from_mapping({"sources": [{"name": "f", "type": "synthetic"}]}
                            ).sources[0].settings.clips.enabled


@pytest.mark.parametrize(("clips", "key", "words"), [
    ({"enabled": "yes"}, "sources[0].clips.enabled", "true or false"),
    ({"pre_roll_s": 61}, "sources[0].clips.pre_roll_s", "between 0 and 60"),
    ({"preroll": 2}, "sources[0].clips.preroll", "enabled, pre_roll_s"),
    ([1], "sources[0].clips", "mapping"),
])
def test_bad_clips_config_names_the_key(clips, key, words):
    with pytest.raises(ConfigError) as caught:
        _config(clips)
    assert caught.value.key == key and words in str(caught.value)
