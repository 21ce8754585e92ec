"""The committed packaging files agree with each other and with the CORE I/O rules."""

from __future__ import annotations

import json

import pytest
import yaml

from spx_tools import compose_rules, compose_tool, manifest, paths
from spx_tools.build import compose_image, extension_name
from spx_tools.project import project_version


def _service() -> dict:
    compose = yaml.safe_load(paths.COMPOSE_FILE.read_text())
    (service,) = compose["services"].values()
    return service


def test_manifest_is_valid_and_matches_the_project():
    data = json.loads(paths.MANIFEST_TEMPLATE.read_text())
    members = {data["icon"], data["udev_rules"], *data["images"]}
    assert manifest.lint(data, members, set(data["images"])) == []
    assert data["version"] == project_version()
    assert data["installation_target"] == "spot"
    assert (paths.EXTENSION_DIR / data["icon"]).is_file()
    assert (paths.EXTENSION_DIR / data["udev_rules"]).is_file()
    for folder in data["directories_to_save"]:
        assert (paths.EXTENSION_DIR / folder).is_dir()


def test_compose_passes_every_rule_and_uses_the_built_tag():
    compose, problems = compose_rules.parse(paths.COMPOSE_FILE.read_bytes())
    tag = f"{extension_name()}:{project_version()}"
    assert problems == []
    assert compose_image(paths.COMPOSE_FILE) == tag
    assert compose_rules.lint(compose, compose_rules.ImageFacts({tag: ""})) == []


def test_compose_maps_cameras_without_blocking_devices():
    service = _service()
    assert "devices" not in service
    assert service["device_cgroup_rules"] == ["c 81:* rmw"]
    assert "/dev:/dev:ro" in service["volumes"]
    assert "44" in service["group_add"]


def test_compose_points_the_service_at_the_operator_config():
    service = _service()
    assert "./config:/config" in service["volumes"]  # read-write: the settings page saves
    assert service["read_only"] is True
    assert service["command"] == ["--config", "/config/config.yaml"]
    # the healthcheck asks the port of the config the service runs with
    assert service["healthcheck"]["test"][-2:] == service["command"]


def test_default_config_is_accepted_by_the_service():
    from camera_service.config.model import load

    config = load(str(paths.EXTENSION_DIR / "config" / "config.yaml"))
    assert config.service.port == 21230
    assert [(s.type, s.settings.options.get("device")) for s in config.sources] == \
        [("v4l2", "all")]


def test_compose_tool_accepts_the_compose_file():
    if compose_tool.compose_command() is None:
        pytest.skip("no docker compose / docker-compose installed")
    findings, tool = compose_tool.validate(paths.COMPOSE_FILE.read_bytes())
    assert findings == [], tool


def test_compose_tool_rejects_a_schema_error():
    if compose_tool.compose_command() is None:
        pytest.skip("no docker compose / docker-compose installed")
    findings, _ = compose_tool.validate(b"services:\n  a:\n    image: x\n    restart: [1]\n")
    assert [f.rule for f in findings] == ["compose-schema"]


def test_without_a_compose_tool_only_the_own_rules_run(monkeypatch):
    monkeypatch.setattr(compose_tool.shutil, "which", lambda name: None)
    assert compose_tool.compose_command() is None
    findings, tool = compose_tool.validate(b"services: [broken\n")
    assert findings == [] and tool.startswith("no compose tool")
