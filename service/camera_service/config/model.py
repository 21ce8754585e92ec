"""Configuration: loading a YAML file into a validated ``Config`` and building its sources.

Every key, its type, default, range and meaning is declared once in ``camera_service.schema``
(``python -m camera_service.schema --json`` prints it as JSON Schema); this module applies it:
the sections and each source entry's common and geometry keys are checked at load, a source
kind's own options when the source is built (``Config.build_sources``).

``ConfigError(key, problem)`` names the dotted key (``sources[1].fps``) and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List

from camera_service.config.yaml_file import read_yaml
from camera_service.core.errors import ConfigError, excerpt
from camera_service.geometry.config import parse_geometry
from camera_service.schema.base import validate
from camera_service.schema.document import TOP_LEVEL_KEYS
from camera_service.schema.sections import (  # noqa: F401  (the config's public names)
    DEFAULT_NAME,
    DEFAULT_PORT,
    DEFAULT_ROBOT,
    DEFAULT_SETTINGS_PORT,
    RobotConfig,
    Sections,
    ServiceConfig,
    SettingsPageConfig,
)
from camera_service.schema.sources import MAX_PIXEL_RATE, MAX_SOURCES, SourceCommon  # noqa: F401
from camera_service.sources import create_source
from camera_service.sources.base import CameraSource, ClipSettings, SourceSettings

CONFIG_ENV = "CAMERA_SERVICE_CONFIG"


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


def _mapping(data: Any, key: str) -> Dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(key, f"must be a mapping (key: value lines), got {type(data).__name__}")
    return data


def check(config: Config) -> Config:
    """Validate the sections again after they were changed in place (command-line flags);
    returns ``config`` with its sections checked (ranges, names, cross-section rules)."""
    sections = validate(Sections, {
        "robot": config.robot.model_dump(), "service": config.service.model_dump(),
        "settings": config.settings.model_dump(), "log_level": config.log_level})
    config.robot, config.service, config.settings = (sections.robot, sections.service,
                                                      sections.settings)
    return config


def parse_source(data: Any, key: str, default_quality: int,
                 base_dir: str | None = None) -> SourceConfig:
    """One ``sources`` entry: its common keys checked against ``SourceCommon``; the
    kind-specific keys go to ``settings.options`` (the kind reads them, typed, when the source
    is built)."""
    data = dict(_mapping(data, key))
    common = validate(SourceCommon, data, key)
    for name in SourceCommon.model_fields:
        data.pop(name, None)
    geometry_keys = {name: value for name, value in
                     common.model_dump(include={"calibration", "intrinsics", "mount"},
                                       exclude_none=True).items()}
    if "intrinsics" in geometry_keys:
        geometry_keys["intrinsics"] = {k: v for k, v in geometry_keys["intrinsics"].items()
                                       if v is not None}
    if "mount" in geometry_keys:
        geometry_keys["mount"] = {k: v for k, v in geometry_keys["mount"].items()
                                  if v is not None}
    geometry = parse_geometry(geometry_keys, key, common.width, common.height,
                              base_dir=base_dir)
    settings = SourceSettings(common.name, width=common.width, height=common.height,
                              fps=common.fps, jpeg_quality=common.jpeg_quality or default_quality,
                              jpeg_passthrough=common.jpeg_passthrough or "auto",
                              options=data, geometry=geometry, clips=_clips(common))
    return SourceConfig(common.type, settings)


def _clips(common: SourceCommon) -> ClipSettings:
    """The source's ``clips`` keys (schema ``Clips``) as the settings the sources carry."""
    if common.clips is None:
        return ClipSettings()
    return ClipSettings(enabled=common.clips.enabled, pre_roll_s=common.clips.pre_roll_s)


def from_mapping(data: Any, base_dir: str | None = None) -> Config:
    """A validated ``Config`` from parsed YAML (``None`` = all defaults). ``base_dir``: the
    config file's folder, which relative file paths in it (``calibration``) are taken from."""
    data = _mapping(data, "(top level)")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(str(key), f"unknown top-level key; use {', '.join(TOP_LEVEL_KEYS)}")
    sections = validate(Sections, {key: value for key, value in data.items()
                                   if key != "sources" and value is not None})
    raw_sources = data.get("sources") or []
    if not isinstance(raw_sources, list):
        raise ConfigError("sources", "must be a list of entries ('- name: ...')")
    if len(raw_sources) > MAX_SOURCES:
        raise ConfigError("sources", f"has {len(raw_sources)} entries; a CORE I/O serves at "
                          f"most {MAX_SOURCES} cameras")
    sources = [parse_source(entry, f"sources[{i}]", sections.service.jpeg_quality, base_dir)
               for i, entry in enumerate(raw_sources)]
    given = {f"{section}.{key}" for section in ("robot", "service")
             for key in _mapping(data.get(section), section)}
    given |= {key for key in ("sources", "log_level") if data.get(key) is not None}
    return Config(sections.robot, sections.service, sources, sections.log_level,
                  frozenset(given), sections.settings)


def load(path: str) -> Config:
    """Read and validate a YAML config file (bounded: see ``config_file``). Raises
    ``ConfigError``."""
    config = from_mapping(read_yaml(path), os.path.dirname(os.path.abspath(path)))
    config.path = path
    return config
