"""Validation of a source's kind-specific config keys (``SourceSettings.options``) and of
its common numeric settings. Every failure is a ``ConfigError`` whose key is relative to
the source entry (``"fps"``, ``"device"``), with a one-line fix."""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Sequence

from camera_service.core.errors import ConfigError, excerpt
from camera_service.sources.base import SourceSettings

# keys every source entry takes besides its kind's options (config.parse_source)
COMMON_KEYS = ("name", "type", "width", "height", "fps", "jpeg_quality", "calibration",
               "intrinsics", "mount")


def check_known(options: dict, allowed: Sequence[str], kind: str) -> None:
    """Refuse keys the kind does not understand (typos would otherwise be ignored); a key
    close to a known one is named (``calibraton`` -> ``calibration``)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), [*allowed, *COMMON_KEYS], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(unknown[0], f"unknown option for a {kind} source; {hint}use "
                          f"{', '.join(allowed)}")


def option_bool(options: dict, key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {excerpt(value)}")
    return value


def option_choice(options: dict, key: str, choices: Sequence[str], default: str) -> str:
    value = options.get(key, default)
    if value not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, got {excerpt(value)}")
    return value


def _is_positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def option_positive(options: dict, key: str, default: float) -> float:
    value = options.get(key, default)
    if not _is_positive(value):
        raise ConfigError(key, f"must be a number > 0, got {excerpt(value)}")
    return float(value)


def check_positive_settings(settings: SourceSettings,
                            keys: Iterable[str] = ("width", "height", "fps")) -> None:
    """The common numeric settings that are given must be > 0."""
    for key in keys:
        value = getattr(settings, key)
        if value is not None and not _is_positive(value):
            raise ConfigError(key, f"must be > 0, got {excerpt(value)}")
