"""The operator's ``config.yaml`` as the settings page reads and writes it.

``save_sources`` replaces the file's ``sources`` list, keeping every other section as it
is. It validates the whole result with the service's own validation first (``check``,
the same as at start: parsing, ranges, each source kind's options): a config that fails is
never written. A valid one is written atomically (a temporary file in the same folder,
flushed, then renamed over the old one; through a symlink to its target; with the old
file's mode and owner), after copying the previous file to ``config.yaml.bak`` the same
way (it holds the same passwords: same mode). Concurrent saves are serialized. URLs the
page sent with masked credentials get the stored ones back first
(``masked_urls.keep_stored_passwords``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml

from camera_service.config import model as config_module
from camera_service.config.yaml_file import EmptyConfig, read_yaml
from camera_service.core.errors import ConfigError
from camera_service.settings_page.masked_urls import keep_stored_passwords

HEADER = ("# Operator configuration of the spot_camera_service extension, last saved by its\n"
          "# settings page (the previous version is config.yaml.bak). Hand edits are picked\n"
          "# up without a restart. Schema: README, Configuration.\n")

Validator = Callable[[Dict[str, Any]], Any]


def check(data: Dict[str, Any], base_dir: str | None = None) -> config_module.Config:
    """The validation the service applies at start: parse, check, build every source.
    ``base_dir``: the config file's folder (relative calibration paths)."""
    config = config_module.from_mapping(data, base_dir)
    config.build_sources()
    return config


class ConfigStore:
    """``path``: the config file (it may not exist yet: defaults apply)."""

    def __init__(self, path: Path, validate: Validator | None = None) -> None:
        self.path = Path(path)
        self.backup = self.path.with_name(self.path.name + ".bak")
        folder = str(self.path.absolute().parent)
        self._validate = validate or (lambda data: check(data, folder))
        self._lock = threading.Lock()

    def read(self) -> Dict[str, Any]:
        """The file's mapping ({} when absent or empty), read like the service reads it.
        Raises ``ConfigError``."""
        if not self.path.exists():
            return {}
        try:
            data = read_yaml(str(self.path))  # the service's bounded, safe reader
        except EmptyConfig:
            return {}  # the page may fill an empty file
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError("(top level)", "must be a mapping (key: value lines)")
        return data

    def save_sources(self, sources: List[Dict[str, Any]]) -> Dict[str, Any]:
        """Validate the file with ``sources`` in place, then write it. Returns the written
        mapping. A masked URL (``scheme://***@host``) in ``sources`` keeps the password stored
        for that source. Raises ``ConfigError`` (nothing written) or ``OSError``."""
        with self._lock:
            data = dict(self.read())
            stored = data.get("sources")
            data["sources"] = keep_stored_passwords(
                sources, stored if isinstance(stored, list) else [])
            self._validate(data)
            text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            if self.path.exists():
                _replace(self.backup, self.path.read_bytes(), like=self.path)
            _replace(self.path, text.encode("utf-8"))
            return data


def _replace(path: Path, data: bytes, like: Path | None = None) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old or the new file, whole.

    A symlinked ``path`` is written through to its target (the link stays a link); the
    new file gets the old one's mode and owner (a 0600 file holding camera passwords stays
    0600; a new file is 0600), and never exists with wider permissions, even for a moment.
    ``like``: take mode and owner from that file instead (the backup: the config's).
    """
    target = Path(os.path.realpath(path))
    try:
        old = os.stat(like if like is not None else target)
        mode, owner = old.st_mode & 0o7777, (old.st_uid, old.st_gid)
    except FileNotFoundError:
        mode, owner = 0o600, None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(handle, "wb") as out:
            out.write(data)
            out.flush()
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                with contextlib.suppress(PermissionError):  # else the writer owns it
                    os.fchown(out.fileno(), *owner)
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
