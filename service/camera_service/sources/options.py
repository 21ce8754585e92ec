"""Checks of a source's common numeric settings a kind needs (> 0). A kind's own options
are declared and checked in ``camera_service.schema.sources`` (``read_options``); every
failure is a ``ConfigError`` whose key is relative to the source entry (``"fps"``)."""

from __future__ import annotations

from typing import Any, Iterable

from camera_service.core.errors import ConfigError, excerpt
from camera_service.sources.base import SourceSettings


def _is_positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def check_positive_settings(settings: SourceSettings,
                            keys: Iterable[str] = ("width", "height", "fps")) -> None:
    """The common numeric settings that are given must be > 0."""
    for key in keys:
        value = getattr(settings, key)
        if value is not None and not _is_positive(value):
            raise ConfigError(key, f"must be > 0, got {excerpt(value)}")
