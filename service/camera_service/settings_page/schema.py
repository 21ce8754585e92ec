"""What the source editor offers, derived from the config module so a key added there
shows up on the page without a page change.

A source entry on the page is: the common fields of every source (``FIELDS``: name, type,
size, rate, JPEG quality, from ``config.source_fields()``), ``device`` for V4L2 cameras, and
``more``: every other key of the entry as YAML (controls, format, calibration, mount ...),
checked by the same validation as the file. ``entry_to_page``/``page_to_entry`` convert
between a ``sources`` item of the YAML and the page's form values.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, List

import yaml

from camera_service.config import model as config_module
from camera_service.core.errors import ConfigError
from camera_service.sources import known_kinds

MORE = "more"  # the page's YAML box for every key without a field of its own
DEVICE = "device"


def fields() -> Dict[str, str]:
    """Field name -> "str" | "int" | "float" for the page's inputs (order kept)."""
    names = {"name": "str", "type": "str"}
    for key, kind in config_module.source_fields().items():
        names[key] = kind.__name__
    names[DEVICE] = "str"
    return names


def kind_options(kind: str) -> List[str]:
    """The kind-specific keys a source type accepts (for the page's hints), when the kind
    declares them."""
    for name in (f"camera_service.sources.{kind}.source", f"camera_service.sources.{kind}"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "_OPTIONS"):
            return list(module._OPTIONS)
    return []


def describe() -> Dict[str, Any]:
    """The editor's schema for the page."""
    return {"fields": fields(), "kinds": {kind: kind_options(kind) for kind in known_kinds()},
            "more": MORE}


def entry_to_page(entry: Dict[str, Any]) -> Dict[str, Any]:
    """A YAML ``sources`` item as form values: field keys as they are, the rest as YAML."""
    form_fields = fields()
    page = {key: entry[key] for key in form_fields if key in entry}
    rest = {key: value for key, value in entry.items() if key not in form_fields}
    page[MORE] = yaml.safe_dump(rest, sort_keys=False).strip() if rest else ""
    return page


def page_to_entry(values: Any, index: int) -> Dict[str, Any]:
    """Form values back into a ``sources`` item: empty fields left out, numbers as numbers,
    ``more`` parsed as YAML. Raises ``ConfigError`` keyed ``sources[index].KEY``."""
    key = f"sources[{index}]"
    if not isinstance(values, dict):
        raise ConfigError(key, "must be an object of field values")
    types = fields()
    entry: Dict[str, Any] = {}
    for name, kind in types.items():
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        entry[name] = _number(raw, kind, f"{key}.{name}") if kind in ("int", "float") else raw
    more = values.get(MORE) or ""
    if not isinstance(more, str):
        raise ConfigError(f"{key}.{MORE}", "must be text (YAML key: value lines)")
    if more.strip():
        try:
            extra = yaml.safe_load(more)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or "invalid YAML"
            raise ConfigError(f"{key}.{MORE}", f"is not valid YAML: {problem}") from None
        if not isinstance(extra, dict):
            raise ConfigError(f"{key}.{MORE}", "must be YAML key: value lines")
        for name, value in extra.items():
            if name in types:
                raise ConfigError(f"{key}.{MORE}", f"{name!r} has its own field; set it there")
            entry[name] = value
    return entry


def _number(raw: Any, kind: str, key: str) -> Any:
    if isinstance(raw, bool):
        raise ConfigError(key, f"must be a number, got {raw!r}")
    if isinstance(raw, (int, float)):
        return raw
    text = str(raw).strip()
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        expected = "an integer" if kind == "int" else "a number"
        raise ConfigError(key, f"must be {expected}, got {text!r}") from None
