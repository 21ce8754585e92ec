"""FileSource: a small MJPG .avi made with cv2.VideoWriter, played in a loop at its rate."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings

FRAMES = 5


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """5 frames at 20 fps, 64x48; frame i is filled with grey level 40*i."""
    path = str(tmp_path_factory.mktemp("video") / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 20.0, (64, 48))
    assert writer.isOpened()
    for i in range(FRAMES):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    return path


def file_source(path, fps=None, **options):
    return create_source("file", SourceSettings(name="clip", fps=fps,
                                                options={"path": path, **options}))


def grey_level(frame):
    return round(float(frame.pixels.mean()) / 40)


def test_plays_in_a_loop_at_the_file_rate(video):
    source = file_source(video)
    info = source.open()
    assert (info.width, info.height, info.fps, info.native_jpeg) == (64, 48, 20.0, False)
    started = time.monotonic()
    frames = [source.read() for _ in range(2 * FRAMES + 2)]
    elapsed = time.monotonic() - started
    assert [grey_level(f) for f in frames] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert [f.sequence for f in frames] == list(range(1, 2 * FRAMES + 3))
    assert frames[0].pixels.shape == (48, 64, 3)
    assert 0.5 <= elapsed < 1.5  # 11 periods of 50 ms
    source.close()
    source.close()


def test_fps_setting_overrides_the_file_rate(video):
    source = file_source(video, fps=100)
    assert source.open().fps == 100
    started = time.monotonic()
    for _ in range(10):
        source.read()
    assert time.monotonic() - started < 0.4
    source.close()


def test_without_loop_the_end_is_a_source_error(video):
    source = file_source(video, loop=False)
    source.open()
    for _ in range(FRAMES):
        source.read()
    with pytest.raises(SourceError, match="ended"):
        source.read()
    source.close()
    source.open()  # reopening starts again
    assert grey_level(source.read()) == 0
    source.close()


def test_missing_or_unreadable_file_is_unavailable(tmp_path):
    with pytest.raises(SourceUnavailable, match=r"no video file at .*fix 'path'"):
        file_source(str(tmp_path / "absent.avi")).open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceUnavailable, match="cannot play"):
        file_source(str(junk)).open()


@pytest.mark.parametrize("options, key", [
    ({}, "path"),
    ({"path": "/x.avi", "loop": "yes"}, "loop"),
    ({"path": "/x.avi", "speed": 2}, "speed"),
])
def test_bad_options_are_config_errors(options, key):
    with pytest.raises(ConfigError) as err:
        create_source("file", SourceSettings(name="x", options=options))
    assert err.value.key == key
