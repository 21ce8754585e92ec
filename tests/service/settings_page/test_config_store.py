"""Saving the source list: validated by the service's own validation first (nothing is
written when it fails), then written atomically with the previous file as a backup; the
other sections are kept."""

from __future__ import annotations

import os

import pytest
import yaml
from camera_service.core.errors import ConfigError
from camera_service.settings_page.config_store import ConfigStore

ORIGINAL = """# hand-written
service:
  name: my-cams
sources:
  - name: front
    type: synthetic
"""


def test_invalid_list_writes_nothing(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(ORIGINAL)
    store = ConfigStore(path)
    for bad, key in (([{"name": "x", "type": "synthetic", "fps": 999}], "sources[0].fps"),
                     ([{"name": "x", "type": "nope"}], "sources[0].type"),
                     ([{"name": "x", "type": "synthetic", "colour": 1}], "sources[0].colour"),
                     ([{"name": "a", "type": "synthetic"}, {"name": "a", "type": "synthetic"}],
                      "sources")):
        with pytest.raises(ConfigError) as caught:
            store.save_sources(bad)
        assert caught.value.key == key
    assert path.read_text() == ORIGINAL
    assert not store.backup.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # no temp file left


def test_valid_list_is_written_with_a_backup(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(ORIGINAL)
    store = ConfigStore(path)
    store.save_sources([{"name": "front", "type": "synthetic"},
                        {"name": "side", "type": "synthetic", "width": 320, "height": 240}])
    assert store.backup.read_text() == ORIGINAL
    saved = yaml.safe_load(path.read_text())
    assert saved["service"] == {"name": "my-cams"}
    assert [entry["name"] for entry in saved["sources"]] == ["front", "side"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "config.yaml.bak"]


def test_missing_file_starts_from_defaults(tmp_path):
    store = ConfigStore(tmp_path / "config.yaml")
    assert store.read() == {}
    store.save_sources([{"name": "front", "type": "synthetic"}])
    assert not store.backup.exists()
    assert yaml.safe_load(store.path.read_text())["sources"][0]["name"] == "front"


# -- issue 23: writes keep the file's mode, owner and symlink ------------------------------
def test_a_save_keeps_a_private_files_mode_and_the_backups(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(ORIGINAL)
    path.chmod(0o600)  # it holds camera passwords
    store = ConfigStore(path)
    store.save_sources([{"name": "back", "type": "synthetic"}])
    store.save_sources([{"name": "side", "type": "synthetic"}])
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert oct(store.backup.stat().st_mode & 0o777) == oct(0o600)
    assert path.stat().st_uid == os.getuid()


def test_a_save_writes_through_a_symlink_to_its_target(tmp_path):
    real = tmp_path / "etc" / "camera.yaml"
    real.parent.mkdir()
    real.write_text(ORIGINAL)
    real.chmod(0o640)
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    ConfigStore(link).save_sources([{"name": "back", "type": "synthetic"}])
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert yaml.safe_load(real.read_text())["sources"] == [{"name": "back",
                                                             "type": "synthetic"}]
    assert oct(real.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in real.parent.iterdir()) == ["camera.yaml"]  # no temp left


def test_an_empty_file_reads_as_no_settings_for_the_page(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("# nothing yet\n\n")
    store = ConfigStore(path)
    assert store.read() == {}
    store.save_sources([{"name": "front", "type": "synthetic"}])
    assert store.read()["sources"] == [{"name": "front", "type": "synthetic"}]
