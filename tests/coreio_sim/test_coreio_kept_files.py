"""Operator files kept across an upgrade (coreio_sim.kept_files)."""

from __future__ import annotations

import pytest

from coreio_sim.errors import InstallError
from coreio_sim.kept_files import restore_kept, save_kept


def test_kept_files_and_folders_survive_replacement(tmp_path):
    old = tmp_path / "old"
    (old / "config").mkdir(parents=True)
    (old / "config" / "cameras.yaml").write_text("operator: yes\n")
    (old / "recordings" / "day1").mkdir(parents=True)
    (old / "recordings" / "day1" / "a.jpg").write_bytes(b"jpg")
    (old / "scratch.txt").write_text("not kept")
    holding = tmp_path / "holding"
    moved = save_kept(
        old, ["config/cameras.yaml", "recordings", "recordings/day1", "absent.txt"], holding
    )
    assert moved == ["config/cameras.yaml", "recordings"]

    new = tmp_path / "new"
    (new / "config").mkdir(parents=True)
    (new / "config" / "cameras.yaml").write_text("default: shipped\n")
    restore_kept(holding, new, moved)
    assert (new / "config" / "cameras.yaml").read_text() == "operator: yes\n"
    assert (new / "recordings" / "day1" / "a.jpg").read_bytes() == b"jpg"
    assert not (new / "scratch.txt").exists()
    assert not holding.exists()


def test_leftover_holding_folder_stops_the_upgrade(tmp_path):
    holding = tmp_path / "holding"
    holding.mkdir()
    with pytest.raises(InstallError, match="stopped half-way"):
        save_kept(tmp_path, [], holding)


def test_kept_path_through_a_link_outside_is_refused(tmp_path):
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "config").symlink_to(tmp_path)
    with pytest.raises(InstallError, match="outside the extension folder"):
        save_kept(ext, ["config/x"], tmp_path / "holding")
