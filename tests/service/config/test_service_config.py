"""YAML config: defaults, validation errors that name the key, source entries."""

from __future__ import annotations

import pytest
from camera_service.config import model as cfg
from camera_service.core.errors import ConfigError


def _load(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return cfg.load(str(path))


def test_defaults_fit_a_core_io():
    config = cfg.from_mapping(None)
    assert config.robot.hostname == "192.168.50.3"
    assert config.robot.payload_credentials_file == (
        "/opt/payload_credentials/payload_guid_and_secret")
    assert 21000 <= config.service.port <= 22000 and config.service.port != 21443
    assert config.service.name == config.service.authority == "camera-image-service"
    assert config.sources == []
    assert [(e.type, e.settings.options) for e in cfg.default_sources()] == [
        ("v4l2", {"device": "all"})]


def test_full_file(tmp_path):
    config = _load(tmp_path, """
robot: {hostname: 10.0.0.1, port: 4443, keepalive_seconds: 2}
service: {port: 21500, jpeg_quality: 60, workers: 4}
sources:
  - {name: front, type: synthetic, width: 320, height: 240, fps: 10, native_jpeg: false}
  - {name: back, type: synthetic, jpeg_quality: 90}
""")
    assert config.robot.port == 4443 and config.robot.keepalive_seconds == 2.0
    assert config.service.workers == 4
    front, back = config.sources
    assert (front.settings.width, front.settings.fps, front.settings.jpeg_quality) == (
        320, 10.0, 60)
    assert front.settings.options == {"native_jpeg": False}
    assert back.settings.jpeg_quality == 90
    assert [s.name for s in config.build_sources()] == ["front", "back"]


@pytest.mark.parametrize(("text", "key"), [
    ("robot: {port: 70000}", "robot.port"),
    ("robot: {prot: 1}", "robot.prot"),
    ("service: {port: abc}", "service.port"),
    ("service: {jpeg_quality: 0}", "service.jpeg_quality"),
    ("service: {workers: many}", "service.workers"),
    ("service: {encode_cache: false}", "service.encode_cache"),  # the bench baseline's only
    ("robot: {guid: abc}", "robot.secret"),
    ("robot: {ca_cert: /nonexistent.pem}", "robot.ca_cert"),
    ("robot: {mode: wireless}", "robot.mode"),
    ("colour: blue", "colour"),
    ("sources: {name: a}", "sources"),
    ("sources: [{type: synthetic}]", "sources[0].name"),
    ("sources: [{name: a}]", "sources[0].type"),
    ("sources: [{name: a, type: laser}]", "sources[0].type"),
    ("sources: [{name: 'bad name', type: synthetic}]", "sources[0].name"),
    ("sources: [{name: a, type: synthetic, fps: 0}]", "sources[0].fps"),
    ("sources: [{name: a, type: synthetic, width: 5}]", "sources[0].width"),
    ("sources: [{name: a, type: synthetic, jpeg_passthrough: sometimes}]",
     "sources[0].jpeg_passthrough"),
    ("log_level: loud", "log_level"),
])
def test_errors_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert err.value.key == key
    assert key in str(err.value) and "\n" not in str(err.value)


def test_kind_option_errors_are_prefixed_with_the_entry(tmp_path):
    config = _load(tmp_path, "sources: [{name: a, type: synthetic, pixel_format: yuv}]")
    with pytest.raises(ConfigError) as err:
        config.build_sources()
    assert err.value.key == "sources[0].pixel_format"


def test_jpeg_passthrough_is_per_source_with_auto_by_default():
    config = cfg.from_mapping({"sources": [
        {"name": "a", "type": "synthetic"},
        {"name": "b", "type": "synthetic", "jpeg_passthrough": "thin-link"}]})
    assert [s.settings.jpeg_passthrough for s in config.sources] == ["auto", "thin-link"]


def test_duplicate_source_names(tmp_path):
    config = _load(tmp_path, "sources: [{name: a, type: synthetic}, {name: a, type: synthetic}]")
    with pytest.raises(ConfigError) as err:
        config.build_sources()
    assert err.value.key == "sources"


def test_robot_ca_must_be_a_pem_certificate(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, f"robot: {{ca_cert: {bad}}}")
    assert err.value.key == "robot.ca_cert" and "PEM" in err.value.problem


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "robot: [unclosed")
    assert "line" in err.value.problem
    with pytest.raises(ConfigError) as err:
        cfg.load(str(tmp_path / "absent.yaml"))
    assert err.value.key == "--config"
