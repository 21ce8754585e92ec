"""Lint a docker-compose.yml against the CORE I/O rules (SPEC section 2), without Docker.

Each rule is a function of one service; `lint` runs them all. Errors are mistakes that
break the extension on the robot; warnings are recommendations.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable

import yaml

from spx_tools.findings import Finding, error, warning

WHERE = "docker-compose.yml"
PORT_RANGE = (21000, 22000)
RESERVED_PORTS = (21443,)
CREDENTIALS_DIR = "/opt/payload_credentials"
HOT_PLUG_FIX = ("remove `devices:` and bind-mount /dev with device_cgroup_rules "
                "['c 81:* rmw'] so cameras may be absent at start and plugged in later")
ROOT_USERS = ("", "root", "0")


@dataclass
class ImageFacts:
    """What the package tells about the images the compose file may reference."""

    users: dict[str, str] = field(default_factory=dict)  # included tag -> image config User

    def included(self, ref: str) -> bool:
        return ref in self.users or f"{ref}:latest" in self.users


def parse(data: bytes) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The compose file as a dict, or None plus an error finding."""
    try:
        compose = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        return None, [error("compose-yaml", WHERE, f"not valid YAML ({problem})")]
    if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict) \
            or not compose["services"]:
        return None, [error("compose-yaml", WHERE, "needs a `services:` mapping with at least "
                            "one service")]
    return compose, []


def lint(compose: dict[str, Any], images: ImageFacts) -> list[Finding]:
    """Every rule on every service of a parsed compose file."""
    findings: list[Finding] = []
    for name, service in compose["services"].items():
        where = f"{WHERE} services.{name}"
        if not isinstance(service, dict):
            findings.append(error("compose-yaml", where, "must be a mapping"))
            continue
        for rule in SERVICE_RULES:
            findings += rule(service, where, images)
    return findings


def _image(service: dict[str, Any], where: str, images: ImageFacts) -> list[Finding]:
    ref = service.get("image")
    if not ref:
        return [error("compose-image", where, "no image: the robot cannot build images; "
                      "reference the tag of an archive in the .spx")]
    if images.included(ref):
        return []
    registry = ref.split("/", 1)[0] if "/" in ref else ""
    if "." in registry or ":" in registry or registry == "localhost":
        return [warning("compose-image", where, f"image {ref!r} is not in the .spx: the "
                        "robot must pull it from a registry at install time")]
    return [error("compose-image", where, f"image {ref!r} is neither in the .spx nor a "
                  "fully qualified public image (registry/name:tag); include its archive")]


def _devices(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    return [error("compose-devices", where, f"device {entry!r} must exist when the container "
                  f"starts (a missing camera stops the extension); {HOT_PLUG_FIX}")
            for entry in service.get("devices") or []]


def _ports(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    findings = []
    for port, origin in service_ports(service):
        findings += check_port(port, origin, where)
    if service.get("network_mode") != "host" and not service.get("ports"):
        findings.append(warning("compose-network", where, "neither network_mode: host nor "
                                "ports: the robot cannot reach the service"))
    return findings


def check_port(port: int, origin: str, where: str) -> list[Finding]:
    """An error when `port` is outside the CORE I/O firewall's range or reserved."""
    low, high = PORT_RANGE
    if not low <= port <= high:
        return [error("compose-ports", where, f"port {port} ({origin}) is outside the CORE "
                      f"I/O firewall's range {low}-{high}; pick one in it")]
    if port in RESERVED_PORTS:
        return [error("compose-ports", where, f"port {port} ({origin}) is reserved by the "
                      "CORE I/O portal; pick another in 21000-22000")]
    return []


def service_ports(service: dict[str, Any]) -> list[tuple[int, str]]:
    """(port, where it was found) for published ports and `--port N` arguments."""
    found: list[tuple[int, str]] = []
    for entry in service.get("ports") or []:
        published = entry.get("published") if isinstance(entry, dict) else _host_port(entry)
        if published is not None and str(published).isdigit():
            found.append((int(published), f"ports entry {entry!r}"))
    for key in ("command", "entrypoint"):
        words = _words(service.get(key))
        for index, word in enumerate(words):
            value = None
            if word == "--port" and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith("--port="):
                value = word.split("=", 1)[1]
            if value is not None and value.isdigit():
                found.append((int(value), f"{key} --port"))
    return found


def _host_port(entry: Any) -> str:
    """Host side of a short `ports:` entry: 'P', 'H:C', 'IP:H:C', each maybe with /proto."""
    parts = str(entry).split("/", 1)[0].split(":")
    return parts[0] if len(parts) <= 2 else parts[1]


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    return [str(v) for v in value]


def _volume_parts(entry: Any) -> tuple[str, str, bool]:
    """(source, target, read_only) of a short or long volume entry."""
    if isinstance(entry, dict):
        return (str(entry.get("source", "")), str(entry.get("target", "")),
                bool(entry.get("read_only", False)))
    parts = str(entry).split(":")
    source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
    options = parts[2].split(",") if len(parts) > 2 else []
    return source, target, "ro" in options


def _credentials(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    mounts = [_volume_parts(v) for v in service.get("volumes") or []]
    matching = [m for m in mounts if m[0].rstrip("/").startswith(CREDENTIALS_DIR)]
    if not matching:
        return [warning("compose-credentials", where, f"{CREDENTIALS_DIR} is not mounted: a "
                        "payload service cannot authenticate; mount it read-only")]
    findings = []
    for source, target, read_only in matching:
        if not target.startswith(CREDENTIALS_DIR):
            findings.append(warning("compose-credentials", where, f"credentials mounted at "
                                    f"{target}; the CORE I/O path is {CREDENTIALS_DIR}"))
        if not read_only:
            findings.append(warning("compose-credentials", where, f"{source} is mounted "
                                    "read-write; add :ro"))
    return findings


def _memory(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    deploy_limit = (((service.get("deploy") or {}).get("resources") or {})
                    .get("limits") or {}).get("memory")
    if service.get("mem_limit") or deploy_limit:
        return []
    return [error("compose-memory", where, "no memory limit: a leak can take down robot "
                  "services; set mem_limit (e.g. 512m)")]


def _restart(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    policy = service.get("restart")
    if policy == "unless-stopped":
        return []
    if policy == "always":
        return [warning("compose-restart", where, "restart: always also restarts after the "
                        "portal stops it; prefer unless-stopped")]
    return [error("compose-restart", where, f"restart policy {policy!r} does not start the "
                  "extension on every boot; set restart: unless-stopped")]


def _logging(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    logging = service.get("logging") or {}
    driver = logging.get("driver")
    if driver == "journald":
        return []
    if driver is None:
        return [warning("compose-logging", where, "no logging driver: set journald (the "
                        "portal shows its logs, and it does not fill /data)")]
    if driver == "json-file" and not (logging.get("options") or {}).get("max-size"):
        return [warning("compose-logging", where, "json-file logs without max-size fill the "
                        "disk; use journald")]
    return [warning("compose-logging", where, f"logging driver {driver!r}: the portal shows "
                    "journald logs; use journald")]


def _user(service: dict[str, Any], where: str, images: ImageFacts) -> list[Finding]:
    user = service.get("user")
    origin = "compose user"
    if user is None:
        ref = service.get("image", "")
        if not images.included(ref):
            return [warning("compose-user", where, "no user: set and the image is not in the "
                            "package, so it may run as root; set user: (e.g. \"1000:1000\")")]
        user = images.users.get(ref, images.users.get(f"{ref}:latest", ""))
        origin = "image USER"
    name = str(user).split(":", 1)[0]
    if name in ROOT_USERS:
        return [error("compose-user", where, f"runs as root ({origin} {user!r}); set a "
                      "non-root user: in compose or USER in the Dockerfile")]
    return []


def _privileges(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    findings = []
    if service.get("privileged"):
        findings.append(warning("compose-privileged", where, "privileged: true gives the "
                                "container every device and capability; use "
                                "device_cgroup_rules"))
    if "ALL" not in [str(c).upper() for c in service.get("cap_drop") or []]:
        findings.append(warning("compose-hardening", where, "capabilities are not dropped; "
                                "add cap_drop: [ALL]"))
    options = [str(o).replace("=", ":") for o in service.get("security_opt") or []]
    if not any(re.fullmatch(r"no-new-privileges(:true)?", o) for o in options):
        findings.append(warning("compose-hardening", where, "add security_opt: "
                                "[no-new-privileges:true]"))
    if service.get("read_only") is not True:
        findings.append(warning("compose-hardening", where, "root file system is writable; "
                                "set read_only: true (with a tmpfs for /tmp)"))
    return findings


def _saved_config(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    """The folder of the service's ``--config`` file must be mounted read-write: the
    settings page saves the file there (atomically, so the folder, not the file, is
    mounted) and keeps its TLS certificate next to it."""
    words = _words(service.get("command"))
    config = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "--config"), None)
    if config is None:
        return []
    folder = str(PurePosixPath(config).parent)
    for source, target, read_only in (_volume_parts(v) for v in service.get("volumes") or []):
        if target.rstrip("/") == folder:
            if read_only:
                return [warning("compose-settings", where, f"{source} is mounted read-only at "
                                f"{target}: the settings page cannot save {config} or keep "
                                "its certificate; mount the folder read-write")]
            return []
        if target.rstrip("/") == config:
            return [warning("compose-settings", where, f"{config} is mounted as a file: a "
                            "save replaces it, which a file mount does not see; mount its "
                            f"folder {folder} instead")]
    return []


def _healthcheck(service: dict[str, Any], where: str, _images: ImageFacts) -> list[Finding]:
    check = service.get("healthcheck") or {}
    if check.get("test") and not check.get("disable"):
        return []
    return [warning("compose-healthcheck", where, "no healthcheck: the portal cannot tell a "
                    "hung service; add one that asks the service itself")]


SERVICE_RULES: tuple[Callable[[dict[str, Any], str, ImageFacts], list[Finding]], ...] = (
    _image, _devices, _ports, _credentials, _memory, _restart, _logging, _user,
    _privileges, _saved_config, _healthcheck)
