"""Applying a changed config to the running service (``CameraService.reload``, the file
watcher): unchanged sources keep their capture, changed ones reopen, added ones appear
through the robot after the list is republished; an invalid file changes nothing; sections
read only at start are reported."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from service_test_helpers import image_client, service_config, wait_for


def _cam(name, **extra):
    return {"name": name, "type": "synthetic", "width": 160, "height": 120, "fps": 20, **extra}


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_reload_keeps_reopens_adds_and_republishes(robot_sim, run_service, tmp_path):
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a"), _cam("b")], path=path))
    robot_sim.wait_for_service("camera-image-service")
    wait_for(lambda: robot_sim.state.fresh_registrations("camera-image-service") == 1)
    kept = service.captures[0]
    wait_for(lambda: kept.frames_captured > 3)
    _edit(path, lambda d: d["sources"].__setitem__(1, _cam("b", fps=5)) or
          d["sources"].append(_cam("c", width=200, height=150)))
    frames_before = kept.frames_captured
    result = service.reload()
    assert (result["kept"], result["reopened"], result["added"], result["removed"]) == (
        ["a"], ["b"], ["c"], [])
    assert result["republished"] and result["restart_needed"] == []
    assert service.captures[0] is kept  # the same capture thread: never stopped
    wait_for(lambda: kept.frames_captured > frames_before + 5)
    # unregistered, registered
    wait_for(lambda: robot_sim.state.fresh_registrations("camera-image-service") == 2)
    _, client = image_client(robot_sim)
    wait_for(lambda: {s.name for s in client.list_image_sources()} == {"a", "b", "c"})
    [shot] = client.get_image_from_sources(["c"])
    assert (shot.shot.image.cols, shot.shot.image.rows) == (200, 150)
    wait_for(lambda: service.status("b").info is not None)  # reopened with the new rate
    assert service.status("b").info.fps == 5


def test_removed_source_is_gone_and_unchanged_file_is_no_change(robot_sim, run_service,
                                                                tmp_path):
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a"), _cam("b")], path=path))
    assert service.reload()["kept"] == ["a", "b"]
    assert not service.reload()["republished"]
    _edit(path, lambda d: d["sources"].pop())
    result = service.reload()
    assert result["removed"] == ["b"] and result["republished"]
    assert [c.name for c in service.captures] == ["a"]
    assert "b" not in service.servicer.captures


def test_invalid_hand_edit_keeps_the_running_config(robot_sim, run_service, tmp_path, caplog):
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a")], path=path))
    before = tuple(service.captures)
    _edit(path, lambda d: d["sources"][0].__setitem__("fps", 999))
    caplog.set_level(logging.ERROR)
    service.reload_or_keep()
    assert service.captures == before
    [line] = [r.getMessage() for r in caplog.records if "config not applied" in r.getMessage()]
    assert "sources[0].fps" in line and "keeping the running one" in line


def test_start_only_sections_are_reported(robot_sim, run_service, tmp_path):
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a")], path=path))
    _edit(path, lambda d: d["service"].__setitem__("name", "renamed"))
    assert service.reload()["restart_needed"] == ["service"]


def test_watcher_applies_a_hand_edit(robot_sim, run_service, tmp_path):
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a")], path=path))
    service.watch_config_file(interval=0.05)
    _edit(path, lambda d: d["sources"].append(_cam("new")))
    # set once the apply is complete; a generous deadline for a loaded machine
    applied = wait_for(lambda: service.last_apply, timeout=30, what="the edit applied")
    assert applied["added"] == ["new"]
    assert "new" in service.servicer.captures


def test_watcher_keeps_the_running_config_when_the_file_is_emptied(robot_sim, run_service,
                                                                   tmp_path, caplog):
    """Defect 7 of issue 23: an emptied (or not yet written) file was applied as the
    defaults, removing every source."""
    caplog.set_level(logging.INFO, logger="camera_service")
    path = tmp_path / "config.yaml"
    service = run_service(service_config(robot_sim, [_cam("a"), _cam("b")], path=path))
    whole = path.read_text()
    service.watch_config_file(interval=0.05)
    path.write_text("")  # a writer that truncated the file and has not written yet
    refused = lambda: [r for r in caplog.records if "is empty" in r.getMessage()]  # noqa: E731
    wait_for(lambda: refused() or service.last_apply, timeout=30, what="the empty file seen")
    assert not service.last_apply, f"an empty file was applied: {service.last_apply}"
    (line,) = refused()
    assert "config not applied, keeping the running one" in line.getMessage()
    assert sorted(service.servicer.captures) == ["a", "b"]
    path.write_text(whole.replace("sources:", "sources:\n- {name: c, type: synthetic}", 1))
    applied = wait_for(lambda: service.last_apply, timeout=30, what="the whole file applied")
    assert (applied["added"], applied["removed"]) == (["c"], [])
