"""The Spot SDK's own plugin tester (vendored, unmodified) passes against the product's clips
plugin through the robot simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from clip_helpers import CLIPS_SERVICE, clip_source, clips_in, start_clip_service

from fake_cameras.ip_camera import FakeIPCamera
from robot_sim.daq_helpers import read_zips, run_plugin_tester

TESTER = Path(__file__).resolve().parents[2] / "third_party" / "spot_sdk_tester" / \
    "plugin_tester.py"


@pytest.mark.slow
def test_sdk_plugin_tester_passes_against_the_clips_plugin(robot_sim, started, tmp_path):
    with FakeIPCamera(width=160, height=120, fps=15) as camera:
        start_clip_service(robot_sim, started, [clip_source("front", url=camera.url)])
        downloads = tmp_path / "downloads"
        run_plugin_tester(robot_sim, TESTER, CLIPS_SERVICE, downloads, cwd=tmp_path)
        files = read_zips((downloads / "REST").glob("*.zip"))
        clips = clips_in(files, tmp_path / "clips")
    # the acquire check stored a default clip (10 s + 2 s pre-roll); the cancelled one nothing
    assert len(clips) == 1
    (clip,) = clips.values()
    assert clip.metadata["complete"] and len(clip.jpegs) > 0
    assert all(camera_sent is not None for camera_sent in map(camera.sequence_of, clip.jpegs))
