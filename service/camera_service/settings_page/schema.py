"""The source editor's fields, generated from the config's JSON Schema
(``camera_service.schema``): every key a source kind accepts is a field of its own, typed,
with its help text, default, bounds and choices from the schema - a key added there shows up
on the page without a page change. There is no free YAML box.

``describe()`` is what the page renders: per kind its fields in order, each
``{name, kind, title, help, default, required, advanced, ...}`` where ``kind`` is one of
``str``, ``int``, ``float`` (``minimum``/``maximum``/``exclusive_minimum``/
``exclusive_maximum``), ``bool``, ``enum`` (``choices``), ``vector`` (``size`` numbers),
``map`` (name -> value rows, e.g. ``controls``), ``group`` (``fields`` of its own, e.g.
``mount``) or ``json`` (a key taking either a word or an object, e.g. ``range``).
``advanced`` marks the rarely used ones (the page folds them away): a kind's common keys the
schema does not mark ``x-form: field`` and every key that is not a single value.

``entry_to_page``/``page_to_entry`` convert between a ``sources`` item of the YAML and the
page's typed form values. ``page_to_entry`` leaves out empty fields and values equal to the
schema's default (the file says what differs) and raises ``ConfigError`` keyed
``sources[index].KEY`` for a value of the wrong type; ranges and everything else are checked
by the config's own validation when the store saves.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Dict, Optional

from camera_service.core.errors import ConfigError
from camera_service.schema.document import json_schema
from camera_service.schema.sources import SOURCE_ENTRIES, SourceCommon

_SCALARS = ("str", "int", "float", "bool", "enum")
_BOUNDS = (("minimum", "minimum"), ("maximum", "maximum"),
           ("exclusiveMinimum", "exclusive_minimum"), ("exclusiveMaximum", "exclusive_maximum"))


def _field(name: str, prop: Dict[str, Any], defs: Dict[str, Any],
           required: bool) -> Dict[str, Any]:
    """One JSON Schema property as a page field (see module doc)."""
    field: Dict[str, Any] = {"name": name, "title": prop.get("title") or name,
                             "help": prop.get("description", ""),
                             "default": prop.get("default"), "required": required}
    if prop.get("examples"):
        field["example"] = prop["examples"][0]
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    if len(options) == 1 and "$ref" in options[0]:
        model = defs[options[0]["$ref"].rsplit("/", 1)[-1]]
        inner = set(model.get("required", []))
        field.update(kind="group", fields=[_field(key, value, defs, key in inner)
                                           for key, value in model["properties"].items()])
        return field
    option = options[0] if len(options) == 1 else {"type": [o.get("type") for o in options]}
    kind = option.get("type")
    if "enum" in option:
        field.update(kind="enum", choices=list(option["enum"]))
    elif kind == "boolean":
        field["kind"] = "bool"
    elif kind in ("integer", "number"):
        field["kind"] = "int" if kind == "integer" else "float"
        for schema_key, page_key in _BOUNDS:
            if schema_key in option:
                field[page_key] = option[schema_key]
    elif kind == "array":
        field.update(kind="vector", size=option.get("maxItems") or option.get("minItems") or 3)
    elif kind == "object":
        field["kind"] = "map"
    elif isinstance(kind, list) and "object" in kind:
        field["kind"] = "json"
    else:
        field["kind"] = "str"
    return field


@functools.lru_cache(maxsize=1)
def describe() -> Dict[str, Any]:
    """Per source kind, its fields in the page's order: name and type, the kind's own keys,
    then the common ones; advanced ones flagged (see module doc)."""
    schema = json_schema()
    defs = schema["$defs"]
    common = list(SourceCommon.model_fields)
    kinds = {}
    for kind, model in SOURCE_ENTRIES.items():
        definition = defs[model.__name__]
        props = definition["properties"]
        required = set(definition.get("required", []))
        own = [key for key in props if key not in common]
        order = ["name", "type", *own, *[key for key in common if key not in ("name", "type")]]
        fields = []
        for key in order:
            field = _field(key, props[key], defs, key in required)
            on_form = props[key].get("x-form") == "field"
            field["advanced"] = not on_form and (key in common or field["kind"] not in _SCALARS)
            fields.append(field)
        kinds[kind] = {"help": definition.get("description", ""), "fields": fields}
    return {"kinds": kinds}


def _fields(kind: Any) -> Dict[str, Dict[str, Any]]:
    kinds = describe()["kinds"]
    if kind not in kinds:
        raise ConfigError("type", f"unknown source type {kind!r}; use one of "
                          f"{', '.join(kinds)}")
    return {field["name"]: field for field in kinds[kind]["fields"]}


def entry_to_page(entry: Dict[str, Any]) -> Dict[str, Any]:
    """A YAML ``sources`` item as the page's values: the same keys, typed values."""
    return dict(entry)


def page_to_entry(values: Any, index: int) -> Dict[str, Any]:
    """The page's values back into a ``sources`` item (see module doc). Raises
    ``ConfigError`` keyed ``sources[index].KEY``."""
    key = f"sources[{index}]"
    if not isinstance(values, dict):
        raise ConfigError(key, "must be an object of field values")
    try:
        fields = _fields(values.get("type"))
    except ConfigError as err:
        raise ConfigError(f"{key}.{err.key}", err.problem) from None
    entry: Dict[str, Any] = {}
    for name, raw in values.items():
        field = fields.get(name)
        if field is None:
            raise ConfigError(f"{key}.{name}", f"is not an option of a {values['type']} "
                              f"source; use {', '.join(fields)}")
        value = _value(field, raw, f"{key}.{name}")
        if value is not None and (value != field["default"] or field["required"]
                                  or name in ("name", "type")):
            entry[name] = value
    return entry


def _value(field: Dict[str, Any], raw: Any, key: str) -> Any:
    """One field's value as the YAML holds it; None when empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = field["kind"]
    if kind in ("int", "float"):
        return _number(raw, kind, key)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ConfigError(key, f"must be true or false, got {raw!r}")
        return raw
    if kind == "vector":
        if not isinstance(raw, list) or all(v is None or v == "" for v in raw):
            return None if isinstance(raw, list) else _wrong(key, "a list of numbers", raw)
        return [_number(v, "float", f"{key}[{i}]") for i, v in enumerate(raw)]
    if kind == "map":
        if not isinstance(raw, dict):
            _wrong(key, "name: value pairs", raw)
        found = {str(k).strip(): _word(v) for k, v in raw.items() if str(k).strip()}
        return found or None
    if kind == "group":
        if not isinstance(raw, dict):
            _wrong(key, "an object", raw)
        inner = {field["name"]: field for field in field["fields"]}
        group = {}
        for name, value in raw.items():
            if name not in inner:
                raise ConfigError(f"{key}.{name}", f"is not an option; use {', '.join(inner)}")
            converted = _value(inner[name], value, f"{key}.{name}")
            if converted is not None and converted != inner[name]["default"]:
                group[name] = converted
        return group or None
    if kind == "json" and isinstance(raw, str) and raw.strip()[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            raise ConfigError(key, "is not valid JSON; give a word or {\"key\": value}") \
                from None
    if isinstance(raw, (dict, list)) and kind != "json":
        _wrong(key, "a single value", raw)
    return raw.strip() if isinstance(raw, str) else raw


def _wrong(key: str, expected: str, raw: Any) -> None:
    raise ConfigError(key, f"must be {expected}, got {type(raw).__name__}")


def _word(value: Any) -> Any:
    """A map value typed in a text box: true/false, a number, else the text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _number(raw: Any, kind: str, key: str) -> Optional[float]:
    if isinstance(raw, bool):
        raise ConfigError(key, f"must be a number, got {raw!r}")
    if isinstance(raw, (int, float)):
        if kind == "int" and int(raw) != raw:
            raise ConfigError(key, f"must be an integer, got {raw!r}")
        return int(raw) if kind == "int" else raw
    text = str(raw).strip()
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        expected = "an integer" if kind == "int" else "a number"
        raise ConfigError(key, f"must be {expected}, got {text!r}") from None
