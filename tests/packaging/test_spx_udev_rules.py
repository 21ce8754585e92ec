"""The extension's udev rules: syntax, and what a camera gets when they are applied."""

from __future__ import annotations

import pytest

from spx_tools import paths, udev

RULES_FILE = paths.EXTENSION_DIR / "70-spot-camera-service.rules"


def _camera(kernel="video0", capabilities=":capture:", **env) -> udev.Device:
    values = {"ID_SERIAL": "Logitech_C920_ABC123", "ID_PATH": "platform-3610000.xhci-usb-0:2:1.0",
              "ID_V4L_CAPABILITIES": capabilities}
    values.update(env)
    return udev.Device(kernel=kernel, subsystem="video4linux", env=values)


@pytest.fixture(scope="module")
def rules():
    return udev.parse(RULES_FILE.read_text())


def test_committed_rules_lint_clean():
    assert udev.lint(RULES_FILE.read_text(), RULES_FILE.name) == []


def test_capture_node_gets_group_mode_and_stable_names(rules):
    device = udev.evaluate(rules, _camera())
    assert (device.group, device.mode) == ("video", "0660")
    assert device.symlinks == ["spot-cameras/by-serial/Logitech_C920_ABC123",
                               "spot-cameras/by-port/platform-3610000.xhci-usb-0:2:1.0"]


def test_metadata_node_gets_permissions_but_no_name(rules):
    device = udev.evaluate(rules, _camera("video1", capabilities=":"))
    assert (device.group, device.mode, device.symlinks) == ("video", "0660", [])


def test_camera_without_serial_is_still_named_by_port(rules):
    device = udev.evaluate(rules, _camera(ID_SERIAL=""))
    assert device.symlinks == ["spot-cameras/by-port/platform-3610000.xhci-usb-0:2:1.0"]


def test_other_subsystems_are_untouched(rules):
    device = udev.evaluate(rules, udev.Device(kernel="ttyUSB0", subsystem="tty"))
    assert (device.group, device.mode, device.symlinks) == ("root", "0600", [])


@pytest.mark.parametrize("text, problem", [
    ('KERNEL="video*"\n', "can only be matched"),
    ('FOO=="x"\n', "unknown key"),
    ('KERNEL=="video*", MODE="rw"\n', "not octal"),
    ('KERNEL=="video*" GROUP="video"\n', "expected ','"),
    ('SUBSYSTEM=="video4linux", GOTO="nowhere"\n', "no LABEL"),
])
def test_syntax_errors_name_the_line(text, problem):
    findings = udev.lint(text, "x.rules")
    assert len(findings) == 1 and problem in findings[0].message
    assert "line 1" in findings[0].message


def test_continuation_lines_are_one_rule():
    rules = udev.parse('KERNEL=="video*", \\\n  GROUP="video"\n')
    assert len(rules) == 1 and len(rules[0].tokens) == 2
