"""The ``manifest.json`` of a Spot Extension: parsing and the checks the CORE I/O portal makes.

``parse_manifest(data)`` takes the decoded JSON object and returns a ``Manifest`` or raises
``InstallError`` with a one-line message naming the offending field and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Tuple

from coreio_sim.errors import InstallError
from spx_tools import manifest as rules
from spx_tools.findings import ERROR, Finding


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
    """Validate a decoded manifest.json object and return it as a ``Manifest``.

    The value rules are the portal's, shared with ``build_extension.py check``
    (``spx_tools.manifest``); here every field the installer acts on must also be present.
    """
    if not isinstance(data, Mapping):
        raise InstallError("manifest.json: expected a JSON object at the top level")
    name = _required_str(data, "extension_name")
    version = _required_str(data, "version")
    target = _required_str(data, "installation_target")
    date = _required_str(data, "date")
    _raise_first_error(rules.lint_name(name) + rules.lint_version(version)
                       + rules.lint_target(target) + rules.lint_date(date))
    files_to_save = _str_list(data, "files_to_save")
    directories_to_save = _str_list(data, "directories_to_save")
    _raise_first_error(rules.lint_saved_paths(dict(data)))
    return Manifest(
        extension_name=name,
        version=version,
        description=_optional_str(data, "description"),
        images=_str_list(data, "images", file_names=True),
        installation_target=target,
        date=date,
        icon=_optional_file_name(data, "icon"),
        udev_rules=_optional_file_name(data, "udev_rules"),
        files_to_save=files_to_save,
        directories_to_save=directories_to_save,
    )


def _raise_first_error(findings: Iterable[Finding]) -> None:
    for finding in findings:
        if finding.level == ERROR:
            raise InstallError(f"manifest.json: {finding.message}")


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


def _str_list(data: Mapping[str, Any], key: str, file_names: bool = False) -> Tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InstallError(f"manifest.json: {key!r} must be a list of non-empty strings")
    for item in value:
        if file_names:
            _check_file_name(key, item)
    return tuple(value)


def _check_file_name(key: str, value: str) -> None:
    if "/" in value or value in (".", ".."):
        raise InstallError(
            f"manifest.json: {key} entry {value!r} must be a plain file name at the .spx top level"
        )
