"""Clips switched on and off in the config of the running service (``reload``, as the
settings page and the file watcher apply it): the plugin registers with the first
clip-enabled source and lists its capability, and leaves the robot's directory with the
last; the image service stays registered throughout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bosdyn.client.data_acquisition import DataAcquisitionClient
from camera_service.app.service import CameraService
from clip_helpers import CLIPS_SERVICE
from service_test_helpers import QUICK_RETRY, SERVICE_NAME, service_config

from devtools.polling import wait_for


def _cam(name: str, **extra) -> dict:
    return {"name": name, "type": "synthetic", "width": 160, "height": 120, "fps": 20,
            **extra}


def _set_clips(path: Path, enabled: bool) -> None:
    data = yaml.safe_load(path.read_text())
    data["sources"][1]["clips"] = {"enabled": enabled, "pre_roll_s": 1.5}
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _listed(sim) -> set:
    return {entry.name for entry in sim.directory_entries()}


def _capabilities(robot) -> set:
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    return {c.name for c in client.get_service_info().data_sources}


@pytest.mark.slow
def test_clips_enabled_and_disabled_live(robot_sim, started, tmp_path):
    path = tmp_path / "config.yaml"
    service = CameraService(service_config(robot_sim, [_cam("a"), _cam("b")], path=path),
                            retry=QUICK_RETRY)
    started.append(service)
    service.start()
    robot_sim.wait_for_service(SERVICE_NAME)
    wait_for(lambda: service.link.connected)
    assert CLIPS_SERVICE not in _listed(robot_sim) and not service.clips.rings
    robot = robot_sim.sdk_robot()

    _set_clips(path, True)
    assert service.reload()["reopened"] == ["b"]
    robot_sim.wait_for_service(CLIPS_SERVICE, timeout=15)
    assert set(service.clips.rings) == {"b"} and service.clips.rings["b"].pre_roll_s == 1.5
    wait_for(lambda: "b-clip" in _capabilities(robot), timeout=15)
    assert "a-clip" not in _capabilities(robot)

    _set_clips(path, False)
    service.reload()
    wait_for(lambda: CLIPS_SERVICE not in _listed(robot_sim), timeout=15)
    wait_for(lambda: SERVICE_NAME in _listed(robot_sim), timeout=15)
    assert not service.clips.rings
