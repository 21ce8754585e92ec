"""The `check` command: every CORE I/O rule on one .spx, ours or anyone's."""

from __future__ import annotations

from pathlib import Path

import yaml

from spx_tools import compose_rules, compose_tool, manifest, udev
from spx_tools.archive import SpxContents, read_spx
from spx_tools.errors import PackagingError
from spx_tools.findings import Finding, error, warning

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_spx(path: Path, *, expected_arch: str = "arm64",
              use_compose_tool: bool = True) -> list[Finding]:
    """All findings for the .spx at `path` (empty list: nothing to report)."""
    try:
        contents = read_spx(path)
    except PackagingError as exc:
        return [error("spx-archive", path.name, str(exc))]
    return check_contents(contents, expected_arch=expected_arch,
                          use_compose_tool=use_compose_tool)


def check_contents(contents: SpxContents, *, expected_arch: str = "arm64",
                   use_compose_tool: bool = True) -> list[Finding]:
    """All findings for an already read .spx."""
    findings = _check_images(contents, expected_arch)
    data = contents.files.get("manifest.json")
    meta: dict | None = None
    if data is None:
        findings.append(error("manifest-json", "manifest.json", "missing at the top level of "
                              "the .spx"))
    else:
        meta, problems = manifest.parse(data)
        findings += problems
        if meta is not None:
            findings += manifest.lint(meta, contents.names, set(contents.archives))
            findings += _check_referenced(meta, contents)
    findings += _check_compose(contents, use_compose_tool)
    findings += _check_config_ports(contents)
    return findings


def _check_images(contents: SpxContents, expected_arch: str) -> list[Finding]:
    findings: list[Finding] = []
    for name, info in sorted(contents.archives.items()):
        findings += [error("image-loadable", name, f"{problem}; re-create it with docker save "
                           "| gzip") for problem in info.problems]
        for image in info.images:
            label = ", ".join(image.tags) or "untagged image"
            if image.architecture != expected_arch:
                findings.append(error("image-arch", name, f"{label} is "
                                      f"{image.os}/{image.architecture or '?'}, the CORE I/O "
                                      f"needs linux/{expected_arch}; build with --platform "
                                      f"linux/{expected_arch}"))
            elif image.os != "linux":
                findings.append(error("image-arch", name, f"{label} is for {image.os!r}, "
                                      "not linux"))
    return findings


def _check_referenced(meta: dict, contents: SpxContents) -> list[Finding]:
    findings: list[Finding] = []
    icon = meta.get("icon")
    if isinstance(icon, str) and icon in contents.files and \
            not contents.files[icon].startswith(PNG_MAGIC):
        findings.append(warning("manifest-icon", icon, "is not a PNG image"))
    rules = meta.get("udev_rules")
    if isinstance(rules, str) and rules in contents.files:
        findings += udev.lint(contents.files[rules].decode(errors="replace"), rules)
    return findings


def _check_compose(contents: SpxContents, use_compose_tool: bool) -> list[Finding]:
    data = contents.files.get(compose_rules.WHERE)
    if data is None:
        return [error("compose-yaml", compose_rules.WHERE, "missing at the top level of the "
                      ".spx")]
    compose, findings = compose_rules.parse(data)
    if compose is None:
        return findings
    users = {tag: image.user for info in contents.archives.values()
             for image in info.images for tag in image.tags}
    findings = compose_rules.lint(compose, compose_rules.ImageFacts(users))
    if use_compose_tool:
        findings += compose_tool.validate(data)[0]
    return findings


def _check_config_ports(contents: SpxContents) -> list[Finding]:
    """`service.port` of YAML config files shipped in the .spx must be in the allowed range."""
    findings: list[Finding] = []
    for name, data in sorted(contents.files.items()):
        if not name.endswith((".yaml", ".yml")) or name == compose_rules.WHERE:
            continue
        try:
            config = yaml.safe_load(data)
        except yaml.YAMLError:
            findings.append(warning("config-yaml", name, "is not valid YAML"))
            continue
        port = (config.get("service") or {}).get("port") if isinstance(config, dict) else None
        if isinstance(port, int):
            findings += compose_rules.check_port(port, f"{name} service.port", name)
    return findings
