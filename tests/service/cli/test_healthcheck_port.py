"""The healthcheck asks the port of the config the service runs with: the extension's compose
file passes ``--config /config/config.yaml``, so an operator who sets ``service.port`` does
not get an unhealthy container (found in the newcomer walkthrough of issue 27)."""

from __future__ import annotations

import pytest
from camera_service.cli import healthcheck
from camera_service.config.model import DEFAULT_PORT


def test_the_config_files_service_port_is_asked(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("service:\n  port: 21330\nsources: []\n")
    assert healthcheck.configured_port(str(config)) == 21330


@pytest.mark.parametrize("text", ["", "service: 3\n", "service:\n  port: true\n",
                                  "service:\n  port: 70000\n", "[unclosed\n"])
def test_a_config_without_a_usable_port_gives_the_default(tmp_path, text):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    assert healthcheck.configured_port(str(config)) == DEFAULT_PORT


def test_no_config_or_a_missing_file_gives_the_default(tmp_path):
    assert healthcheck.configured_port(None) == DEFAULT_PORT
    assert healthcheck.configured_port(str(tmp_path / "absent.yaml")) == DEFAULT_PORT


def test_the_command_line_asks_the_configs_port(tmp_path, monkeypatch, capsys):
    asked = []
    monkeypatch.delenv("CAMERA_SERVICE_PORT", raising=False)
    monkeypatch.setattr(healthcheck, "check", lambda host, port: asked.append(port) or "ok")
    config = tmp_path / "config.yaml"
    config.write_text("service:\n  port: 21330\n")
    assert healthcheck.main(["--config", str(config)]) == 0
    monkeypatch.setenv("CAMERA_SERVICE_PORT", "21400")
    assert healthcheck.main(["--config", str(config)]) == 0
    assert healthcheck.main(["--port", "21500"]) == 0
    assert asked == [21330, 21400, 21500]
