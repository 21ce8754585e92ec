"""Configuration: dataclasses, the YAML file, and validation.

Schema (every key optional; defaults fit a CORE I/O)::

    robot:
      hostname: 192.168.50.3          # robot address seen from the CORE I/O
      port: 443                       # robot's gRPC/TLS port (the simulator uses another)
      ca_cert: null                   # robot CA certificate file; null = SDK's built-in CA
      payload_credentials_file: /opt/payload_credentials/payload_guid_and_secret
      guid: null                      # instead of the file (SDK example's --guid/--secret)
      secret: null
      mode: payload                   # payload | external (user login from
                                      #   BOSDYN_CLIENT_USERNAME / BOSDYN_CLIENT_PASSWORD)
      host_ip: auto                   # address the robot reaches this service at;
                                      #   auto = this host's address on the route to the robot
      keepalive_seconds: 10           # directory keep-alive period
    service:
      port: 21230                     # CORE I/O firewall allows 21000-22000 (not 21443)
      bind: 0.0.0.0
      name: camera-image-service      # directory name
      authority: camera-image-service
      jpeg_quality: 75                # default for sources that do not set their own
      workers: 8                      # gRPC worker threads
      memory_limit_mib: 0             # memory budget; 0 = the container's cgroup limit
                                      #   (512 when there is none)
      max_images_per_request: 32      # image requests answered per GetImage
    settings:                         # the HTTPS settings page (see README, Settings page)
      enabled: true
      port: 21231                     # in 21000-22000; https://<robot>:21231/ from the WiFi
      bind: 0.0.0.0
      data_dir: null                  # certificate folder; null = the config file's folder
      cert_file: null                 # operator's PEM certificate and key instead of the
      key_file: null                  #   one generated on first start
      session_minutes: 30             # a login lasts this long
    log_level: info                   # debug | info | warning
    sources:                          # default: every V4L2 camera present (device: all)
      - name: front                   # image source name shown on the tablet (unique)
        type: synthetic               # synthetic | v4l2 | url | file
        width: 1280                   # optional: requested size and rate
        height: 720
        fps: 30
        jpeg_quality: 80              # optional; set on a V4L2 camera's compression control
        jpeg_passthrough: auto        # auto | thin-link | never (pipeline.passthrough)
        native_jpeg: true             # ... plus the keys of that type (see Camera sources)
        calibration: /data/front.yaml # optional geometry (see camera_service.geometry.config):
        mount: {parent: body, xyz: [0.3, 0, 0.1], rpy_deg: [-90, 0, -90]}

``ConfigError(key, problem)`` names the dotted key (``sources[1].fps``) and the problem.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, FrozenSet, List

from camera_service.config.yaml_file import read_yaml
from camera_service.core.errors import ConfigError, excerpt
from camera_service.encoding.passthrough import POLICIES
from camera_service.geometry.config import parse_geometry
from camera_service.robot.credentials import DEFAULT_CREDENTIALS_FILE
from camera_service.sources import create_source, known_kinds
from camera_service.sources.base import CameraSource, SourceSettings

DEFAULT_ROBOT = "192.168.50.3"
DEFAULT_PORT = 21230
DEFAULT_SETTINGS_PORT = 21231
DEFAULT_NAME = "camera-image-service"
CONFIG_ENV = "CAMERA_SERVICE_CONFIG"
MAX_SOURCES = 16
MAX_PIXEL_RATE = 3840 * 2160 * 60  # 4K at 60 fps: beyond any camera a CORE I/O can take
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass
class RobotConfig:
    hostname: str = DEFAULT_ROBOT
    port: int = 443
    ca_cert: str | None = None
    payload_credentials_file: str = DEFAULT_CREDENTIALS_FILE
    guid: str | None = None
    secret: str | None = field(default=None, repr=False)
    mode: str = "payload"
    host_ip: str = "auto"
    keepalive_seconds: float = 10.0


@dataclass
class ServiceConfig:
    port: int = DEFAULT_PORT
    bind: str = "0.0.0.0"
    name: str = DEFAULT_NAME
    authority: str = DEFAULT_NAME
    jpeg_quality: int = 75
    workers: int = 8
    memory_limit_mib: int = 0
    max_images_per_request: int = 32


@dataclass
class SettingsPageConfig:
    enabled: bool = True
    port: int = DEFAULT_SETTINGS_PORT
    bind: str = "0.0.0.0"
    data_dir: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    session_minutes: float = 30.0


@dataclass
class SourceConfig:
    """One ``sources`` entry: its kind and the settings handed to that kind."""

    type: str
    settings: SourceSettings


@dataclass
class Config:
    robot: RobotConfig = field(default_factory=RobotConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    sources: List[SourceConfig] = field(default_factory=list)
    log_level: str = "info"
    # Dotted keys the config file set ("service.name", "sources", ...): the command line's
    # migration defaults (example names) yield to them.
    given: FrozenSet[str] = frozenset()
    settings: SettingsPageConfig = field(default_factory=SettingsPageConfig)
    path: str | None = field(default=None, compare=False)  # the file it was loaded from

    def build_sources(self) -> List[CameraSource]:
        """Create the camera sources (``device: all`` expanded). Raises ``ConfigError`` with
        the entry's key."""
        from camera_service.sources.v4l2.discovery import expand_sources

        pairs = [(entry.type, entry.settings) for entry in self.sources or default_sources()]
        index_of = {id(settings): i for i, (_, settings) in enumerate(pairs)}
        built = []
        for kind, settings in expand_sources(pairs):
            try:
                built.append(create_source(kind, settings))
            except ConfigError as err:
                where = index_of.get(id(settings))
                prefix = f"sources[{where}]" if where is not None else f"sources.{settings.name}"
                raise ConfigError(f"{prefix}.{err.key}", err.problem) from None
        names = [source.name for source in built]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError("sources", f"two sources are named {excerpt(duplicates[0])}; "
                              "give each a unique name")
        return built


def default_sources() -> List[SourceConfig]:
    """Every V4L2 camera present, each under a stable name."""
    return [SourceConfig("v4l2", SourceSettings("camera", options={"device": "all"}))]


# -- validation helpers ------------------------------------------------------------------
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _typed(value: Any, kind: type, key: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        shown = type(value).__name__ if key.endswith(".secret") else excerpt(value)  # no secret
        raise ConfigError(key, f"must be {_TYPE_NAMES[kind]}, got {shown}")
    return value


def _in_range(value: float, low: float, high: float, key: str) -> None:
    if not low <= value <= high:
        raise ConfigError(key, f"must be between {low:g} and {high:g}, got {excerpt(value)}")


def _mapping(data: Any, key: str) -> Dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(key, f"must be a mapping (key: value lines), got {type(data).__name__}")
    return data


def _check_pem(path: str, key: str) -> None:
    """``path`` must be a readable PEM certificate file (the robot's CA)."""
    if not os.path.isfile(path):
        raise ConfigError(key, f"{path} is not a file")
    try:
        with open(path, "rb") as handle:
            text = handle.read(1 << 20)
    except OSError as err:
        raise ConfigError(key, f"cannot read {path}: {err.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(key, f"{path} is not a PEM certificate (no BEGIN CERTIFICATE line)")


_ROBOT_TYPES = {"hostname": str, "port": int, "ca_cert": str, "payload_credentials_file": str,
                "guid": str, "secret": str, "mode": str, "host_ip": str,
                "keepalive_seconds": float}
_SERVICE_TYPES = {"port": int, "bind": str, "name": str, "authority": str, "jpeg_quality": int,
                  "workers": int, "memory_limit_mib": int,
                  "max_images_per_request": int}
_SETTINGS_TYPES = {"enabled": bool, "port": int, "bind": str, "data_dir": str,
                   "cert_file": str, "key_file": str, "session_minutes": float}
_OPTIONAL = {"ca_cert", "guid", "secret", "data_dir", "cert_file", "key_file"}


def _section(cls, data: Any, key: str, types: Dict[str, type]):
    data = _mapping(data, key)
    known = [f.name for f in fields(cls)]
    for name in data:
        if name not in types:
            raise ConfigError(f"{key}.{name}", f"unknown key; {key} accepts {', '.join(known)}")
    values = {name: _typed(value, types[name], f"{key}.{name}", optional=name in _OPTIONAL)
              for name, value in data.items()}
    return cls(**values)


def check(config: Config) -> Config:
    """Validate values across the whole config (ranges, names); returns it."""
    robot, service = config.robot, config.service
    _in_range(robot.port, 1, 65535, "robot.port")
    _in_range(service.port, 0, 65535, "service.port")
    _in_range(service.jpeg_quality, 1, 100, "service.jpeg_quality")
    _in_range(service.workers, 1, 64, "service.workers")
    if service.memory_limit_mib != 0:
        _in_range(service.memory_limit_mib, 256, 65536, "service.memory_limit_mib")
    _in_range(service.max_images_per_request, 1, 1000, "service.max_images_per_request")
    _in_range(robot.keepalive_seconds, 0.5, 600, "robot.keepalive_seconds")
    if robot.mode not in ("payload", "external"):
        raise ConfigError("robot.mode", f"must be payload or external, got {excerpt(robot.mode)}")
    if not robot.hostname:
        raise ConfigError("robot.hostname", "must not be empty")
    if (robot.guid is None) != (robot.secret is None):
        raise ConfigError("robot.guid" if robot.guid is None else "robot.secret",
                          "guid and secret go together; give both or neither")
    if robot.ca_cert is not None:
        _check_pem(robot.ca_cert, "robot.ca_cert")
    for key in ("name", "authority"):
        if not _NAME_RE.match(getattr(service, key)):
            raise ConfigError(f"service.{key}", "must be letters, digits, '-', '_' or '.'")
    page = config.settings
    _in_range(page.port, 0, 65535, "settings.port")
    if page.enabled and page.port and page.port == service.port:
        raise ConfigError("settings.port", f"must differ from service.port ({service.port})")
    _in_range(page.session_minutes, 0.01, 7 * 24 * 60, "settings.session_minutes")
    if (page.cert_file is None) != (page.key_file is None):
        raise ConfigError("settings.cert_file" if page.cert_file is None
                          else "settings.key_file",
                          "cert_file and key_file go together; give both or neither")
    if config.log_level not in ("debug", "info", "warning"):
        raise ConfigError("log_level", f"must be debug, info or warning, got "
                          f"{excerpt(config.log_level)}")
    return config


_SOURCE_COMMON = {"width": int, "height": int, "fps": float, "jpeg_quality": int,
                  "jpeg_passthrough": str}


def source_fields() -> Dict[str, type]:
    """The keys every source entry accepts besides name and type, with their types."""
    return dict(_SOURCE_COMMON)


def parse_source(data: Any, key: str, default_quality: int,
                 base_dir: str | None = None) -> SourceConfig:
    """One ``sources`` entry; kind-specific keys go to ``settings.options`` unchecked (the
    kind checks them when the source is built)."""
    data = dict(_mapping(data, key))
    for required in ("name", "type"):
        if required not in data:
            raise ConfigError(f"{key}.{required}", "is required")
    name = _typed(data.pop("name"), str, f"{key}.name")
    if not _NAME_RE.match(name):
        raise ConfigError(f"{key}.name", "must be letters, digits, '-', '_' or '.' "
                          f"(up to 63), got {excerpt(name)}")
    kind = _typed(data.pop("type"), str, f"{key}.type")
    if kind not in known_kinds():
        raise ConfigError(f"{key}.type", f"unknown source type {excerpt(kind)}; use one of "
                          f"{', '.join(known_kinds())}")
    common = {k: _typed(data.pop(k), t, f"{key}.{k}", optional=True)
              for k, t in _SOURCE_COMMON.items() if k in data}
    for size_key in ("width", "height"):
        if common.get(size_key) is not None:
            _in_range(common[size_key], 16, 8192, f"{key}.{size_key}")
    if common.get("fps") is not None:
        _in_range(common["fps"], 0.1, 240, f"{key}.fps")
    width, height, fps = (common.get(k) for k in ("width", "height", "fps"))
    if width and height and fps and width * height * fps > MAX_PIXEL_RATE:
        raise ConfigError(f"{key}.fps", f"{width}x{height} at {fps:g} fps is more than a CORE "
                          f"I/O can capture ({MAX_PIXEL_RATE / 1e6:.0f} Mpixel/s at most); "
                          "lower the size or the rate")
    policy = common.get("jpeg_passthrough")
    if policy is not None and policy not in POLICIES:
        raise ConfigError(f"{key}.jpeg_passthrough", f"must be {', '.join(POLICIES)}, got "
                          f"{policy!r}")
    if policy is None:
        common.pop("jpeg_passthrough", None)
    quality = common.pop("jpeg_quality", None) or default_quality
    _in_range(quality, 1, 100, f"{key}.jpeg_quality")
    geometry = parse_geometry(data, key, common.get("width"), common.get("height"),
                              base_dir=base_dir)
    settings = SourceSettings(name, jpeg_quality=quality, options=data, geometry=geometry,
                              **common)
    return SourceConfig(kind, settings)


def from_mapping(data: Any, base_dir: str | None = None) -> Config:
    """A validated ``Config`` from parsed YAML (``None`` = all defaults). ``base_dir``: the
    config file's folder, which relative file paths in it (``calibration``) are taken from."""
    data = _mapping(data, "(top level)")
    allowed = ("robot", "service", "settings", "sources", "log_level")
    for key in data:
        if key not in allowed:
            raise ConfigError(key, f"unknown top-level key; use {', '.join(allowed)}")
    robot = _section(RobotConfig, data.get("robot"), "robot", _ROBOT_TYPES)
    service = _section(ServiceConfig, data.get("service"), "service", _SERVICE_TYPES)
    raw_sources = data.get("sources") or []
    if not isinstance(raw_sources, list):
        raise ConfigError("sources", "must be a list of entries ('- name: ...')")
    if len(raw_sources) > MAX_SOURCES:
        raise ConfigError("sources", f"has {len(raw_sources)} entries; a CORE I/O serves at "
                          f"most {MAX_SOURCES} cameras")
    sources = [parse_source(entry, f"sources[{i}]", service.jpeg_quality, base_dir)
               for i, entry in enumerate(raw_sources)]
    log_level = _typed(data.get("log_level", "info"), str, "log_level")
    given = {f"{section}.{key}" for section in ("robot", "service")
             for key in _mapping(data.get(section), section)}
    given |= {key for key in ("sources", "log_level") if data.get(key) is not None}
    page = _section(SettingsPageConfig, data.get("settings"), "settings", _SETTINGS_TYPES)
    return check(Config(robot, service, sources, log_level, frozenset(given), page))


def load(path: str) -> Config:
    """Read and validate a YAML config file (bounded: see ``config_file``). Raises
    ``ConfigError``."""
    config = from_mapping(read_yaml(path), os.path.dirname(os.path.abspath(path)))
    config.path = path
    return config
