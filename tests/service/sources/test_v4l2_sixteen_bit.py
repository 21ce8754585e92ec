"""V4L2Source with 16-bit cameras in the fake V4L2 world (Y16, Y16 big-endian and Z16 nodes
next to an 8-bit webcam): which format is opened, that the values arrive bit-identical in
this machine's byte order, and that a camera is never silently served in 8 bits."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from camera_service.core.errors import ConfigError, SourceUnavailable
from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.source import V4L2Source

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World, depth_camera, thermal_camera


@pytest.fixture
def world(tmp_path):
    return FakeV4L2World(str(tmp_path))


def source_for(world, camera, **options):
    return world.source(camera, **options)


def first_frame(source):
    info = source.open()
    try:
        return info, source.read()
    finally:
        source.close()


@pytest.mark.parametrize("big_endian", [False, True])
def test_thermal_values_arrive_bit_identical(world, big_endian):
    camera = world.plug(thermal_camera(big_endian=big_endian))
    info, frame = first_frame(source_for(world, camera))  # format: auto
    assert frame.sixteen_bit and frame.pixels.dtype.isnative
    assert np.array_equal(frame.pixels, camera.sent_values[-1])
    assert (frame.width, frame.height, info.channels) == (640, 512, 1)
    assert info.sixteen_bit.image_type == "visual" and not info.native_jpeg
    assert info.detail.startswith(("Y16_BE" if big_endian else "Y16") + " 640x512")


def test_depth_node_opens_z16_with_its_scale(world):
    camera = world.plug(depth_camera())
    info, frame = first_frame(source_for(world, camera, depth_scale=4000))
    assert np.array_equal(frame.pixels, camera.sent_values[-1])
    assert (info.sixteen_bit.image_type, info.sixteen_bit.depth_scale) == ("depth", 4000.0)
    assert "DEPTH_U16, depth_scale 4000" in info.detail


def test_explicit_format_wins_over_the_preview_and_is_logged(world, caplog):
    camera = world.plug(thermal_camera())
    caplog.set_level(logging.INFO, "camera_service.sources.v4l2.source")
    info, frame = first_frame(source_for(world, camera, format="Y16", colormap="none",
                                         range={"min": 1000, "max": 9000}))
    assert frame.sixteen_bit
    assert info.sixteen_bit.view.describe() == "range 1000..9000, colour map none"
    assert any("Y16 640x512" in record.getMessage() for record in caplog.records)
    info, frame = first_frame(source_for(world, camera, format="GREY"))
    assert not frame.sixteen_bit and info.sixteen_bit is None  # the 8-bit preview, asked for


def test_webcam_in_auto_stays_colour(world):
    camera = world.plug(FakeCamera())
    info, frame = first_frame(source_for(world, camera))
    assert info.native_jpeg and frame.jpeg is not None and info.sixteen_bit is None


def test_a_camera_without_the_16_bit_format_is_not_opened_in_8_bits(world):
    webcam = world.plug(FakeCamera())
    source = source_for(world, webcam, format="Y16")
    with pytest.raises(SourceUnavailable, match=r"does not grant the 16-bit format Y16 "
                       r"\(granted YUYV; offers YUYV, MJPG\)"):
        source.open()
    assert world.open_handles() == []
    thermal = world.plug(thermal_camera())
    with pytest.raises(SourceUnavailable, match="Y16_BE"):
        source_for(world, thermal, format="Y16_BE").open()


def test_16_bit_options_need_a_16_bit_format():
    with pytest.raises(ConfigError) as err:
        V4L2Source(SourceSettings("cam", options={"format": "MJPG", "colormap": "jet"}))
    assert err.value.key == "colormap"
    with pytest.raises(ConfigError) as err:
        V4L2Source(SourceSettings("cam", options={"format": "Z16", "depth_scale": -1}))
    assert err.value.key == "depth_scale"
    V4L2Source(SourceSettings("cam", options={"format": "auto", "colormap": "jet"}))


@pytest.mark.parametrize("name, bits", [("Y12", 12), ("Y10", 10)])
def test_unpacked_10_and_12_bit_grey(world, name, bits):
    camera = world.plug(thermal_camera(modes={name: {(320, 256): 9.0}}, serial=name))
    info, frame = first_frame(source_for(world, camera, format=name))
    assert np.array_equal(frame.pixels, camera.sent_values[-1])
    assert int(frame.pixels.max()) < (1 << bits) and info.sixteen_bit.bits == bits
    with pytest.raises(ConfigError):  # a fixed range past the camera's values
        source_for(world, camera, format=name, range={"min": 0, "max": 1 << bits})
