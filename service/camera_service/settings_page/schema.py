"""What the source editor offers, derived from the config's JSON Schema
(``camera_service.schema``), so a key added there shows up on the page without a page change.

A source entry on the page is: the fields the schema marks ``x-form: field`` (``fields()``:
name, type, size, rate, JPEG quality, passthrough, and a kind's main key such as ``device``),
and ``more``: every other key of the entry as YAML (controls, format, calibration, mount ...),
checked by the same validation as the file. ``kind_options(kind)`` lists the keys a kind
accepts besides the common ones, with their descriptions in ``describe()``.
``entry_to_page``/``page_to_entry`` convert between a ``sources`` item of the YAML and the
page's form values.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List

import yaml

from camera_service.core.errors import ConfigError
from camera_service.schema.document import json_schema
from camera_service.schema.sources import SOURCE_ENTRIES, SourceCommon

MORE = "more"  # the page's YAML box for every key without a field of its own
DEVICE = "device"  # the v4l2 field the page fills from "Cameras present"
_FORM_TYPES = {"integer": "int", "number": "float", "string": "str"}


@functools.lru_cache(maxsize=1)
def _entries() -> Dict[str, Dict[str, Any]]:
    """Kind -> the JSON Schema properties of that kind's ``sources`` entry."""
    schema = json_schema()
    found = {}
    for kind, model in SOURCE_ENTRIES.items():
        found[kind] = schema["$defs"][model.__name__]["properties"]
    return found


def _form_type(prop: Dict[str, Any]) -> str:
    kinds = []
    for part in prop.get("anyOf", [prop]):
        kind = part.get("type")
        kinds.extend(kind if isinstance(kind, list) else [kind])
    for kind in kinds:
        if kind in _FORM_TYPES:
            return _FORM_TYPES[kind]
    return "str"


def fields() -> Dict[str, str]:
    """Field name -> "str" | "int" | "float" for the page's inputs (order kept): the keys the
    schema marks ``x-form: field``, common keys first, then the kinds' own (``device``)."""
    names: Dict[str, str] = {}
    common = list(SourceCommon.model_fields)
    entries = _entries()
    for name in common:
        for props in entries.values():
            prop = props.get(name)
            if prop is not None and prop.get("x-form") == "field":
                names[name] = _form_type(prop)
                break
    for props in entries.values():
        for name, prop in props.items():
            if name not in names and prop.get("x-form") == "field":
                names[name] = _form_type(prop)
    return names


def kind_options(kind: str) -> List[str]:
    """The kind-specific keys a source type accepts (for the page's hints)."""
    common = set(SourceCommon.model_fields)
    return [name for name in _entries().get(kind, {}) if name not in common]


def describe() -> Dict[str, Any]:
    """The editor's schema for the page: fields, each kind's own keys, their help text."""
    entries = _entries()
    help_text = {kind: {name: props[name].get("description", "") for name in props}
                 for kind, props in entries.items()}
    return {"fields": fields(), "kinds": {kind: kind_options(kind) for kind in entries},
            "help": help_text, "more": MORE}


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
