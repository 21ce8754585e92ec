"""V4L2Source: format negotiation, native JPEG, controls and reopen after unplug, against a
fake capture object and fake sysfs/dev tree (no /dev/video can exist on this machine)."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.source import V4L2Source

from fake_cameras.v4l2_world import (
    COMPRESSION_QUALITY_ID,
    FakeCamera,
    FakeV4L2World,
    compression_quality_control,
    default_controls,
)

BY_ID = "/dev/v4l/by-id/usb-Logitech_HD_Pro_Webcam_C920_A1B2C3D4-video-index0"


@pytest.fixture
def world(tmp_path):
    return FakeV4L2World(str(tmp_path))


def make_source(world, width=None, height=None, fps=None, **options):
    settings = SourceSettings(name="cam", width=width, height=height, fps=fps,
                              options={"device": BY_ID, **options})
    return V4L2Source(settings, capture_factory=world.capture_factory, tree=world.tree(),
                      control_device_factory=world.control_device_factory)


def test_registered_as_v4l2_and_options_validated():
    source = create_source("v4l2", SourceSettings(name="x", options={"device": 0}))
    assert isinstance(source, V4L2Source) and source.device == "0"
    for options, key in (
        ({"device": "/dev/video0", "colour": "red"}, "colour"),
        ({"format": "MOTIONJPEG"}, "format"),
        ({"format": "MJPG", "codec": "YUYV"}, "codec"),
        ({"native_jpeg": "yes"}, "native_jpeg"),
        ({"controls": ["brightness"]}, "controls"),
        ({"device": "all"}, "device"),
        ({"device": -1}, "device"),
    ):
        with pytest.raises(ConfigError) as err:
            create_source("v4l2", SourceSettings(name="x", options=options))
        assert err.value.key == key


def test_prefers_mjpeg_and_reports_granted_mode(world):
    world.plug(FakeCamera())
    source = make_source(world, width=1920, height=1080, fps=30)
    info = source.open()
    assert (info.width, info.height, info.fps, info.native_jpeg) == (1920, 1080, 30.0, True)
    assert "MJPG 1920x1080 @30" in info.detail
    source.close()


def test_explicit_yuyv_reports_the_lower_rate_the_camera_grants(world):
    world.plug(FakeCamera())
    source = make_source(world, width=1920, height=1080, fps=30, codec="YUYV")
    info = source.open()
    assert (info.width, info.height, info.fps, info.native_jpeg) == (1920, 1080, 5.0, False)
    frame = source.read()
    assert frame.jpeg is None and frame.pixels.shape == (1080, 1920, 3)
    source.close()


def test_codec_alias_in_lower_case_is_the_same_fourcc():
    for options in ({"codec": "mjpg"}, {"format": "MJPG"}, {"format": "MJPG", "codec": "MJPG"}):
        source = create_source("v4l2", SourceSettings(name="x", options=options))
        assert source.format == "MJPG"


def test_camera_without_mjpeg_falls_back_to_what_it_grants(world):
    world.plug(FakeCamera(modes={"YUYV": {(640, 480): 30.0}}))
    source = make_source(world, width=1280, height=720)
    info = source.open()
    assert (info.width, info.height, info.native_jpeg) == (640, 480, False)
    assert source.read().pixels.shape == (480, 640, 3)
    source.close()


def test_native_jpeg_bytes_pass_through_untouched(world):
    camera = world.plug(FakeCamera())
    source = make_source(world, width=1280, height=720)
    source.open()
    frames = [source.read() for _ in range(3)]
    assert [f.jpeg for f in frames] == camera.sent_jpegs[-3:]
    assert [f.sequence for f in frames] == [1, 2, 3]
    assert all((f.width, f.height) == (1280, 720) for f in frames)
    decoded = cv2.imdecode(np.frombuffer(frames[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (720, 1280, 3)
    source.close()


def test_jpeg_quality_is_estimated_per_frame_and_set_on_a_compression_control(world, caplog):
    plain = world.plug(FakeCamera(jpeg_quality=85))
    source = make_source(world, width=640, height=480)
    source.open()
    assert source.read().jpeg_quality == 85  # estimated from the camera's tables
    source.close()
    world.unplug(plain)
    camera = world.plug(FakeCamera(controls=[*default_controls(),
                                             compression_quality_control(80)]))
    source = make_source(world, width=640, height=480)
    source.settings.jpeg_quality = 60
    caplog.set_level("INFO")
    source.open()
    assert camera.values[COMPRESSION_QUALITY_ID] == 60  # the camera encodes at 60
    assert source.read().jpeg_quality == 60
    assert "delivers JPEG quality 60 (MJPG 640x480" in caplog.text  # with the granted format
    source.close()


def test_native_jpeg_off_decodes_to_pixels(world):
    world.plug(FakeCamera())
    source = make_source(world, native_jpeg=False)
    assert source.open().native_jpeg is False
    frame = source.read()
    assert frame.jpeg is None and frame.pixels.ndim == 3
    source.close()


def test_missing_at_start_then_opened_when_plugged(world):
    source = make_source(world)
    with pytest.raises(SourceUnavailable) as err:
        source.open()
    assert "plug it in" in str(err.value) and BY_ID in str(err.value)
    assert world.open_handles() == []
    world.plug(FakeCamera())
    assert source.open().native_jpeg
    assert source.read().jpeg
    source.close()


def test_unplug_mid_stream_faults_then_reopens_on_new_node_without_leaks(world):
    camera = world.plug(FakeCamera())
    other = world.plug(FakeCamera(serial="OTHER", usb_port="2"))
    source = make_source(world, controls={"brightness": 12})
    source.open()
    source.read()
    world.unplug(camera)
    with pytest.raises(SourceError, match="unplugged"):
        source.read()
    source.close()
    assert world.open_handles() == []
    with pytest.raises(SourceUnavailable):
        source.open()
    world.unplug(other)
    world.plug(FakeCamera(serial="THIRD", usb_port="3"))  # takes video0
    world.plug(camera)  # comes back as video2: found through its by-id name
    assert camera.nodes[0] == "video2"
    source.open()
    assert source.read().jpeg == camera.sent_jpegs[-1]
    assert {c.name: c.value for c in source.controls()}["brightness"] == 12
    source.close()
    source.close()  # idempotent
    assert world.open_handles() == []


def test_many_reopen_cycles_do_not_leak(world):
    camera = world.plug(FakeCamera())
    source = make_source(world)
    for _ in range(50):
        source.open()
        source.read()
        world.unplug(camera)
        with pytest.raises(SourceError):
            source.read()
        source.close()
        world.plug(camera)
    assert world.open_handles() == []


def test_open_refuses_metadata_node_in_one_line(world):
    world.plug(FakeCamera())
    source = make_source(world, device="/dev/video1")
    with pytest.raises(SourceUnavailable, match="metadata-only") as err:
        source.open()
    assert "\n" not in str(err.value)
    assert world.open_handles() == []


def test_controls_read_from_device_with_ranges_and_menus(world):
    world.plug(FakeCamera())
    source = make_source(world)
    source.open()
    controls = {c.name: c for c in source.controls()}
    assert "gain" not in controls  # read-only controls are not offered
    brightness = controls["brightness"]
    assert (brightness.kind, brightness.minimum, brightness.maximum, brightness.value) == \
        ("int", -64, 64, 0)
    exposure = controls["auto_exposure"]
    assert exposure.kind == "menu"
    assert exposure.choices == ("Manual Mode", "Aperture Priority Mode")
    assert exposure.value == "Aperture Priority Mode"
    assert controls["white_balance_automatic"].value is True
    source.close()


def test_set_control_applies_validates_and_survives_reopen(world):
    camera = world.plug(FakeCamera())
    source = make_source(world, controls={"power_line_frequency": "50 Hz"})
    source.open()
    assert {c.name: c.value for c in source.controls()}["power_line_frequency"] == "50 Hz"
    source.set_control("brightness", -20)
    source.set_control("auto_exposure", "Manual Mode")
    assert camera.values[0x00980900] == -20
    assert camera.values[0x009A0901] == 1
    with pytest.raises(KeyError):
        source.set_control("focus", 3)
    with pytest.raises(ValueError, match="between -64 and 64"):
        source.set_control("brightness", 100)
    with pytest.raises(ValueError, match="one of Manual Mode, Aperture Priority Mode"):
        source.set_control("auto_exposure", "Shutter Priority Mode")
    source.close()
    camera.values[0x00980900] = 0  # a replugged camera starts from its defaults
    source.open()
    assert camera.values[0x00980900] == -20
    source.close()


def test_bad_initial_control_is_a_warning_not_a_failure(world, caplog):
    world.plug(FakeCamera())
    source = make_source(world, controls={"brightness": 500, "nonexistent": 1})
    source.open()
    assert source.read().jpeg
    text = caplog.text
    assert "brightness must be between" in text and "no control 'nonexistent'" in text
    source.close()


def test_set_control_from_another_thread_while_streaming(world):
    camera = world.plug(FakeCamera())
    source = make_source(world)
    source.open()
    errors = []

    def tweak():
        try:
            for value in range(-64, 65):
                source.set_control("brightness", value)
                source.controls()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=tweak)
    thread.start()
    while thread.is_alive():
        source.read()
    thread.join()
    assert errors == [] and camera.values[0x00980900] == 64
    source.close()


def test_opencv_fallback_when_ioctls_fail_applies_changes_in_the_capture_thread(world):
    camera = world.plug(FakeCamera())

    def no_ioctls(path):
        raise PermissionError(13, "Permission denied", path)

    settings = SourceSettings(name="cam", options={"device": BY_ID})
    source = V4L2Source(settings, capture_factory=world.capture_factory, tree=world.tree(),
                        control_device_factory=no_ioctls)
    source.open()
    assert {c.name for c in source.controls()} == {"brightness", "contrast"}
    source.set_control("brightness", 7)
    assert camera.values[0x00980900] == 0  # queued: OpenCV captures are not thread-safe
    source.read()
    assert camera.values[0x00980900] == 7
    assert {c.name: c.value for c in source.controls()}["brightness"] == 7
    with pytest.raises(KeyError):
        source.set_control("zoom_absolute", 1)
    source.close()
    assert world.open_handles() == []


def test_camera_vanishing_during_open_leaves_nothing_open(world):
    camera = world.plug(FakeCamera())

    def vanishing_controls(path):
        device = world.control_device_factory(path)
        world.unplug(camera)  # gone between the capture open and the control read
        return device

    settings = SourceSettings(name="cam", options={"device": BY_ID})
    source = V4L2Source(settings, capture_factory=world.capture_factory, tree=world.tree(),
                        control_device_factory=vanishing_controls)
    with pytest.raises(SourceUnavailable, match="went away while opening"):
        source.open()
    assert world.open_handles() == []
