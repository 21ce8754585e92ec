"""manifest.json of a .spx: render ours, lint anyone's (SPEC section 3)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import PurePosixPath
from typing import Any, Iterable

from spx_tools.findings import Finding, error, warning

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
VERSION_PATTERN = re.compile(r"\d+\.\d+\.\d+")
FORBIDDEN_NAME_PARTS = ("coreio", "mission_control")
TARGETS = ("spot", "orbit")
WHERE = "manifest.json"


def render(template: dict[str, Any], *, version: str, date: str,
           images: Iterable[str]) -> bytes:
    """Our manifest: the template with version, date and images filled in; stable bytes."""
    manifest = dict(template, version=version, date=date, images=sorted(images))
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def parse(data: bytes) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The manifest as a dict, or None plus an error finding when it is not a JSON object."""
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        return None, [error("manifest-json", WHERE, f"not valid JSON ({exc}); fix the syntax")]
    if not isinstance(manifest, dict):
        return None, [error("manifest-json", WHERE, "must be a JSON object")]
    return manifest, []


def lint(manifest: dict[str, Any], members: set[str], archives: set[str]) -> list[Finding]:
    """Every manifest rule. `members`: top-level file names in the .spx; `archives`: the
    members that are image archives (.tar.gz / .tgz / .tar)."""
    findings: list[Finding] = []
    findings += lint_name(manifest.get("extension_name"))
    findings += lint_version(manifest.get("version"))
    findings += lint_images(manifest.get("images"), archives)
    findings += lint_referenced_file(manifest, "icon", members, required=False)
    findings += lint_referenced_file(manifest, "udev_rules", members, required=False)
    findings += lint_target(manifest.get("installation_target"))
    findings += lint_date(manifest.get("date"))
    findings += lint_saved_paths(manifest)
    if not manifest.get("description"):
        findings.append(warning("manifest-description", WHERE,
                                "no description; the portal shows it to the operator"))
    return findings


def lint_name(name: Any) -> list[Finding]:
    """extension_name: letters, digits, - and _; no 'coreio' or 'mission_control'."""
    if not isinstance(name, str) or not name:
        return [error("manifest-name", WHERE, "extension_name is missing; set it, e.g. "
                      "\"spot_camera_service\"")]
    if not NAME_PATTERN.fullmatch(name):
        return [error("manifest-name", WHERE, f"extension_name {name!r} may only hold letters, "
                      "digits, '-' and '_'")]
    lowered = name.lower().replace("-", "_")
    for part in FORBIDDEN_NAME_PARTS:
        if part in lowered:
            return [error("manifest-name", WHERE, f"extension_name {name!r} contains "
                          f"{part!r}, which the portal rejects; rename it")]
    return []


def lint_version(version: Any) -> list[Finding]:
    """version: X.Y.Z with integer parts."""
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        return [error("manifest-version", WHERE, f"version {version!r} is not X.Y.Z "
                      "(three integers, e.g. \"1.2.0\")")]
    return []


def lint_images(images: Any, archives: set[str]) -> list[Finding]:
    """images: a list of file names equal to the image archives in the package."""
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        return [error("manifest-images", WHERE, "images must be a list of archive file names")]
    findings = [error("manifest-images", WHERE, f"lists {name!r} but the .spx has no such "
                      "file; add the archive or remove the entry")
                for name in sorted(set(images) - archives)]
    findings += [error("manifest-images", WHERE, f"archive {name!r} is in the .spx but not "
                       "listed in images; list it or remove it")
                 for name in sorted(archives - set(images))]
    if not images:
        findings.append(error("manifest-images", WHERE, "images is empty; the extension "
                              "needs at least one image archive"))
    return findings


def lint_referenced_file(manifest: dict[str, Any], key: str, members: set[str],
                         required: bool) -> list[Finding]:
    """`key` (icon, udev_rules) names a file that exists in the package."""
    name = manifest.get(key)
    if name is None:
        maker = error if required else warning
        return [maker(f"manifest-{key.replace('_', '-')}", WHERE, f"no {key}; add one")]
    if not isinstance(name, str) or name not in members:
        return [error(f"manifest-{key.replace('_', '-')}", WHERE,
                      f"{key} {name!r} is not a file in the .spx; add it or fix the name")]
    return []


def lint_target(target: Any) -> list[Finding]:
    """installation_target: 'spot' or 'orbit'."""
    if target is None:
        return [warning("manifest-target", WHERE, "no installation_target; set \"spot\"")]
    if target not in TARGETS:
        return [error("manifest-target", WHERE, f"installation_target {target!r} is not one "
                      f"of {', '.join(TARGETS)}")]
    return []


def lint_date(date: Any) -> list[Finding]:
    """date: an ISO-8601 time."""
    if date is None:
        return [warning("manifest-date", WHERE, "no date; set the ISO-8601 build time")]
    try:
        datetime.datetime.fromisoformat(str(date).replace("Z", "+00:00"))
    except ValueError:
        return [error("manifest-date", WHERE, f"date {date!r} is not ISO-8601 "
                      "(e.g. 2026-01-31T12:00:00Z)")]
    return []


def lint_saved_paths(manifest: dict[str, Any]) -> list[Finding]:
    """files_to_save / directories_to_save: relative paths inside the extension folder."""
    findings: list[Finding] = []
    saved = 0
    for key in ("files_to_save", "directories_to_save"):
        value = manifest.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            findings.append(error("manifest-saved-paths", WHERE, f"{key} must be a list of "
                                  "paths relative to the extension folder"))
            continue
        for path in value:
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or not path:
                findings.append(error("manifest-saved-paths", WHERE, f"{key} entry {path!r} "
                                      "must be relative to the extension folder "
                                      "/data/.extensions/<name>/ without '..'"))
        saved += len(value)
    if saved == 0 and not findings:
        findings.append(warning("manifest-saved-paths", WHERE, "no files_to_save or "
                                "directories_to_save: operator settings are lost on upgrade"))
    return findings
