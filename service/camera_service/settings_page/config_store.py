"""The operator's ``config.yaml`` as the settings page reads and writes it.

``save_sources`` replaces the file's ``sources`` list, keeping every other section as it
is. It validates the whole result with the service's own validation first (``check``,
the same as at start: parsing, ranges, each source kind's options): a config that fails is
never written. A valid one is written atomically (a temporary file in the same folder,
flushed, then renamed over the old one), after copying the previous file to
``config.yaml.bak`` the same way. Concurrent saves are serialized. URLs the page sent with
masked credentials get the stored ones back first (``masked_urls.keep_stored_passwords``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml

from camera_service.config import model as config_module
from camera_service.config.yaml_file import read_yaml
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
        data = read_yaml(str(self.path))  # the service's bounded, safe reader
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
                _replace(self.backup, self.path.read_bytes())
            _replace(self.path, text.encode("utf-8"))
            return data


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
