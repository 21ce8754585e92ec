"""Camera sources, one module per kind, and the registry that builds them from config.

A kind registers itself with ``@register("kind")`` on its ``CameraSource`` subclass; the
class must accept a ``SourceSettings`` and validate ``settings.options`` in ``__init__``,
raising ``ConfigError`` (key relative to the source, e.g. ``"device"``) for bad values.
"""

from __future__ import annotations

import importlib
from typing import Callable, Dict, List, Mapping, Type

from camera_service.core.errors import ConfigError
from camera_service.sources.base import (
    NO_SHOT_SETTINGS,
    CameraSource,
    ControlValue,
    ShotSettings,
    SourceSettings,
)

_KINDS: Dict[str, Type[CameraSource]] = {}

# Modules that define source kinds; imported lazily so a missing optional one does not
# break the others.
_KIND_MODULES = ("synthetic", "v4l2.source", "url", "file")


def register(kind: str) -> Callable[[Type[CameraSource]], Type[CameraSource]]:
    """Class decorator: make ``cls`` buildable from config entries with ``type: kind``."""

    def decorate(cls: Type[CameraSource]) -> Type[CameraSource]:
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return decorate


def _load_kinds() -> None:
    for module in _KIND_MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{module}":
                raise


def known_kinds() -> List[str]:
    """Names accepted as a source's ``type``."""
    _load_kinds()
    return sorted(_KINDS)


def create_source(kind: str, settings: SourceSettings) -> CameraSource:
    """Build a source of ``kind``. Raises ``ConfigError`` for an unknown kind or bad options."""
    _load_kinds()
    try:
        cls = _KINDS[kind]
    except KeyError:
        raise ConfigError(
            "type", f"unknown source type {kind!r}; use one of {', '.join(known_kinds())}"
        ) from None
    return cls(settings)


def shot_settings(kind: str, values: Mapping[str, ControlValue]) -> ShotSettings:
    """Exposure and gain of a frame of a ``kind`` source taken under the controls ``values``
    (``CameraSource.shot_settings``); unset for an unknown kind."""
    _load_kinds()
    cls = _KINDS.get(kind)
    return cls.shot_settings(values) if cls is not None else NO_SHOT_SETTINGS
