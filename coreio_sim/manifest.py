"""The ``manifest.json`` of a Spot Extension: parsing and the checks the CORE I/O portal makes.

``parse_manifest(data)`` takes the decoded JSON object and returns a ``Manifest`` or raises
``InstallError`` with a one-line message naming the offending field and the fix.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Mapping, Tuple

from coreio_sim.errors import InstallError

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
_VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
_RESERVED_NAME_PARTS = ("coreio", "mission_control")
_TARGETS = ("spot", "orbit")


@dataclass(frozen=True)
class Manifest:
    """The fields of a manifest the installer acts on (all validated)."""

    extension_name: str
    version: str
    description: str
    images: Tuple[str, ...]
    installation_target: str
    date: str
    icon: str = ""
    udev_rules: str = ""
    files_to_save: Tuple[str, ...] = field(default_factory=tuple)
    directories_to_save: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def version_tuple(self) -> Tuple[int, ...]:
        """The version as integers, for comparisons."""
        return tuple(int(part) for part in self.version.split("."))


def parse_manifest(data: Any) -> Manifest:
    """Validate a decoded manifest.json object and return it as a ``Manifest``."""
    if not isinstance(data, Mapping):
        raise InstallError("manifest.json: expected a JSON object at the top level")
    name = _required_str(data, "extension_name")
    _check_name(name)
    version = _required_str(data, "version")
    if not _VERSION_PATTERN.match(version):
        raise InstallError(f"manifest.json: version {version!r} is not X.Y.Z (integers)")
    target = _required_str(data, "installation_target")
    if target not in _TARGETS:
        raise InstallError(
            f"manifest.json: installation_target {target!r} must be one of {', '.join(_TARGETS)}"
        )
    date = _required_str(data, "date")
    _check_date(date)
    return Manifest(
        extension_name=name,
        version=version,
        description=_optional_str(data, "description"),
        images=_str_list(data, "images", file_names=True),
        installation_target=target,
        date=date,
        icon=_optional_file_name(data, "icon"),
        udev_rules=_optional_file_name(data, "udev_rules"),
        files_to_save=_str_list(data, "files_to_save", relative_paths=True),
        directories_to_save=_str_list(data, "directories_to_save", relative_paths=True),
    )


def _check_name(name: str) -> None:
    if not _NAME_PATTERN.match(name):
        raise InstallError(
            f"manifest.json: extension_name {name!r} may hold only letters, digits, '-' and '_'"
        )
    lowered = name.lower()
    for part in _RESERVED_NAME_PARTS:
        if part in lowered:
            raise InstallError(
                f"manifest.json: extension_name {name!r} must not contain {part!r}; rename it"
            )


def _check_date(date: str) -> None:
    text = date[:-1] + "+00:00" if date.endswith("Z") else date
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InstallError(
            f"manifest.json: date {date!r} is not ISO-8601 (e.g. 2024-05-01T12:00:00)"
        ) from None


def _required_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InstallError(f"manifest.json: {key!r} is missing or not a non-empty string")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InstallError(f"manifest.json: {key!r} must be a string")
    return value


def _optional_file_name(data: Mapping[str, Any], key: str) -> str:
    value = _optional_str(data, key)
    if value:
        _check_file_name(key, value)
    return value


def _str_list(
    data: Mapping[str, Any], key: str, file_names: bool = False, relative_paths: bool = False
) -> Tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InstallError(f"manifest.json: {key!r} must be a list of non-empty strings")
    for item in value:
        if file_names:
            _check_file_name(key, item)
        if relative_paths:
            _check_relative_path(key, item)
    return tuple(value)


def _check_file_name(key: str, value: str) -> None:
    if "/" in value or value in (".", ".."):
        raise InstallError(
            f"manifest.json: {key} entry {value!r} must be a plain file name at the .spx top level"
        )


def _check_relative_path(key: str, value: str) -> None:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise InstallError(
            f"manifest.json: {key} entry {value!r} must be relative to the extension folder"
            " without '..'"
        )
