"""The probe command an integrator runs to see what a camera grants."""

from __future__ import annotations

from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.probe import main, probe
from camera_service.sources.v4l2.source import V4L2Source

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World, thermal_camera


def test_probe_reports_mode_controls_and_measured_rate(tmp_path):
    world = FakeV4L2World(str(tmp_path))
    world.plug(FakeCamera())
    source = V4L2Source(SourceSettings("probe", width=1280, height=720,
                                       options={"device": "auto"}),
                        capture_factory=world.capture_factory, tree=world.tree(),
                        control_device_factory=world.control_device_factory)
    text = "\n".join(probe(source, 5))
    assert "granted: MJPG 1280x720 @30 fps" in text
    assert "brightness = 0 (default 0; -64..64)" in text
    assert "power_line_frequency = '50 Hz' (default '50 Hz'; Disabled | 50 Hz | 60 Hz)" in text
    assert "read 5 frames" in text and "JPEG bytes" in text
    assert world.open_handles() == []


def test_probe_without_a_camera_fails_in_one_line(capsys):
    assert main(["/dev/v4l/by-id/usb-none-video-index0", "--frames", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("probe failed: no camera at /dev/v4l/by-id/usb-none-video-index0")
    assert "\n" not in err


def test_probe_of_a_thermal_camera_reports_16_bit_values(tmp_path):
    world = FakeV4L2World(str(tmp_path))
    text = "\n".join(probe(world.source(world.plug(thermal_camera()), "probe"), 3))
    assert "granted: Y16 640x512" in text and "16-bit values served as GREYSCALE_U16" in text
    assert f"16-bit values, average {640 * 512 * 2} bytes" in text
