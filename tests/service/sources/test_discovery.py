"""Discovery and stable naming against a fake sysfs/dev tree (no /dev/video exists here)."""

from __future__ import annotations

import os

import pytest
from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.discovery import (
    DeviceNotFound,
    describe,
    expand_all,
    expand_sources,
    preferred_path,
    stable_name,
)

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World


@pytest.fixture
def world(tmp_path):
    return FakeV4L2World(str(tmp_path))


def test_metadata_nodes_are_listed_but_not_capture_nodes(world):
    world.plug(FakeCamera())
    tree = world.tree()
    nodes = tree.nodes()
    assert [os.path.basename(n.path) for n in nodes] == ["video0", "video1"]
    assert [n.can_capture for n in nodes] == [True, False]
    assert [os.path.basename(n.path) for n in tree.capture_nodes()] == ["video0"]


def test_stable_links_point_at_the_node_and_by_id_gives_the_name(world):
    camera = world.plug(FakeCamera(vendor="Logitech", model="C920", serial="XY12"))
    node = world.tree().capture_nodes()[0]
    assert os.path.basename(node.path) == camera.nodes[0]
    assert any("/by-id/usb-Logitech_C920_XY12-video-index0" in p for p in node.stable_paths)
    assert any("/by-path/" in p for p in node.stable_paths)
    assert stable_name(node) == "logitech-c920-xy12"


def test_udev_symlink_is_preferred_for_name_and_path(world):
    camera = world.plug(FakeCamera())
    link = world.add_udev_symlink(camera, "spot-cam-front")
    node = world.tree().capture_nodes()[0]
    assert preferred_path(node) == link
    assert stable_name(node) == "spot-cam-front"


def test_extension_udev_names_are_found_and_give_the_same_source_name(world):
    camera = world.plug(FakeCamera(vendor="046d", model="C920", serial="XY12", usb_port="2"))
    by_port = world.add_udev_symlink(camera, "spot-cameras/by-port/pci-0000:00:14.0-usb-0:2:1.0")
    by_serial = world.add_udev_symlink(camera, "spot-cameras/by-serial/046d_C920_XY12")
    node = world.tree().capture_nodes()[0]
    # By serial number first (udev rule, then /dev/v4l/by-id), then by port.
    assert [os.path.relpath(p, world.dev_root) for p in node.stable_paths] == [
        os.path.relpath(by_serial, world.dev_root), "v4l/by-id/usb-046d_C920_XY12-video-index0",
        os.path.relpath(by_port, world.dev_root),
        "v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0"]
    assert preferred_path(node) == by_serial
    assert stable_name(node) == "046d-c920-xy12"  # as from /dev/v4l/by-id without the rules
    assert world.tree().resolve("/dev/spot-cameras/by-serial/046d_C920_XY12") == \
        os.path.join(world.dev_root, camera.nodes[0])


def test_resolve_follows_stable_names_after_the_node_number_changes(world):
    first = world.plug(FakeCamera(serial="AAA", usb_port="1"))
    second = world.plug(FakeCamera(serial="BBB", usb_port="2"))
    tree = world.tree()
    by_id = "/dev/v4l/by-id/usb-Logitech_HD_Pro_Webcam_C920_BBB-video-index0"
    assert os.path.basename(tree.resolve(by_id)) == second.nodes[0] == "video2"
    # Vibration unplugs cameras; replugged, they take the lowest free numbers.
    world.unplug(first)
    world.plug(first)
    assert first.nodes[0] == "video0"  # lowest free numbers are reused, like the kernel
    world.unplug(second)
    world.plug(second)
    assert second.nodes[0] == "video2"
    world.unplug(first)
    world.plug(FakeCamera(serial="CCC", usb_port="3"))  # takes video0/1
    world.plug(first)
    assert first.nodes[0] == "video4"
    assert os.path.basename(
        tree.resolve("usb-Logitech_HD_Pro_Webcam_C920_AAA-video-index0")) == "video4"
    assert os.path.basename(tree.resolve("pci-0000:00:14.0-usb-0:1:1.0-video-index0")) == \
        "video4"


def test_resolve_index_path_and_auto(world):
    world.plug(FakeCamera())
    tree = world.tree()
    assert tree.resolve("0") == os.path.join(world.dev_root, "video0")
    assert tree.resolve("/dev/video0") == os.path.join(world.dev_root, "video0")
    assert tree.resolve("auto") == os.path.join(world.dev_root, "video0")


def test_missing_camera_gives_one_line_with_the_fix(world):
    tree = world.tree()
    with pytest.raises(DeviceNotFound) as err:
        tree.resolve("/dev/v4l/by-id/usb-Logitech_C920-video-index0")
    message = str(err.value)
    assert "\n" not in message
    assert "usb-Logitech_C920-video-index0" in message and "plug it in" in message
    with pytest.raises(DeviceNotFound, match="no capture-capable camera"):
        tree.resolve("auto")


@pytest.mark.parametrize("meta_name", [None, "vivid-000-meta-cap"])
def test_metadata_node_is_refused_with_the_capture_sibling(world, meta_name):
    world.plug(FakeCamera(serial="OTHER", usb_port="1"))
    world.plug(FakeCamera(usb_port="2", meta_name=meta_name))
    with pytest.raises(DeviceNotFound, match=r"metadata-only node\): use \S*/dev/video2 "):
        world.tree().resolve("/dev/video3")


def test_expand_all_makes_one_source_per_capture_camera(world):
    world.plug(FakeCamera(model="C920", serial="AAA"))
    world.plug(FakeCamera(model="C920", serial="BBB", usb_port="2"))
    settings = SourceSettings(name="usb", width=1280, options={"device": "all"})
    expanded = expand_all(settings, world.tree())
    assert [s.name for s in expanded] == ["usb-logitech-c920-aaa", "usb-logitech-c920-bbb"]
    assert all("/v4l/by-id/" in s.options["device"] for s in expanded)
    assert all(s.width == 1280 for s in expanded)
    assert settings.options["device"] == "all"  # the input is not modified


def test_expand_all_with_no_camera_keeps_one_auto_source(world):
    settings = SourceSettings(name="usb", options={"device": "all"})
    assert [(s.name, s.options["device"]) for s in expand_all(settings, world.tree())] == \
        [("usb", "auto")]


def test_identical_cameras_get_unique_names(world):
    world.plug(FakeCamera(serial="SAME"))
    world.plug(FakeCamera(serial="SAME", usb_port="2"))
    names = [s.name for s in expand_all(SourceSettings(name="c", options={"device": "all"}),
                                        world.tree())]
    assert len(set(names)) == 2


def test_expand_sources_only_touches_v4l2_all_entries(world):
    world.plug(FakeCamera())
    entries = [
        ("synthetic", SourceSettings(name="demo")),
        ("v4l2", SourceSettings(name="usb", options={"device": "ALL"})),
        ("v4l2", SourceSettings(name="fixed", options={"device": "/dev/video0"})),
    ]
    result = expand_sources(entries, world.tree())
    assert [(kind, s.name) for kind, s in result] == [
        ("synthetic", "demo"), ("v4l2", "usb-logitech-hd-pro-webcam-c920-a1b2c3d4"),
        ("v4l2", "fixed")]


def test_describe_lists_nodes_roles_and_links(world):
    world.plug(FakeCamera())
    text = "\n".join(describe(world.tree()))
    assert "video0: Logitech HD Pro Webcam C920 [capture]" in text
    assert "video1" in text and "metadata only" in text
    assert "by-id/usb-Logitech_HD_Pro_Webcam_C920_A1B2C3D4-video-index0" in text
