"""The configuration reference page, generated from the config file's JSON Schema.

``render(schema)`` turns the schema of ``camera_service.schema`` (``json_schema()``) into
Markdown: one table per section (``robot``, ``service``, ``settings``), the top-level
scalars, then one table per source kind (the common keys once, then each kind's own keys)
and per nested object (``mount``, ``intrinsics``). Every key is listed with its type,
default, allowed range or values, description and an example. ``documented_keys(schema)``
and ``schema_keys(schema)`` give the dotted keys the page lists and the schema holds, so a
test can compare them. The mkdocs hook (``devtools/docs_hooks.py``) appends ``render`` to
``docs/configuration-reference.md`` at every build; nothing generated is committed.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

Schema = Dict[str, Any]
SECTIONS = ("robot", "service", "settings")
NO_DEFAULT = object()
#: Examples for the keys whose schema field carries none (better: give the field one).
FALLBACK_EXAMPLES: Dict[str, Any] = {
    "robot.guid": "a1b2c3d4-e5f6-7890-abcd-ef0123456789",
    "robot.secret": "(the payload's secret)",
    "settings.data_dir": "/config",
    "settings.cert_file": "/config/my-cert.pem",
    "settings.key_file": "/config/my-key.pem",
    "sources[].intrinsics": "{fx: 600, fy: 600, cx: 319.5, cy: 239.5}",
    "sources[].mount": "{parent: body, xyz: [0.42, 0, 0.08], rpy_deg: [-90, 0, -90]}",
    "sources[].codec": "MJPG",
    "sources[].clips": "{enabled: true, pre_roll_s: 2}",
    "sources[].depth_scale": 1000,
    "sources[].intrinsics.coefficients": [0.052, -0.021, 0.0093, -0.0027],
    "sources[].intrinsics.width": 640,
    "sources[].intrinsics.height": 480,
    "sources[].mount.quaternion": [0.5, -0.5, 0.5, 0.5],
}


def load_schema() -> Schema:
    """The JSON Schema of a config file, from the product's one declaration."""
    from camera_service.schema.document import json_schema  # the service's own package

    return json_schema()


def _resolve(schema: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if ref:
        return schema["$defs"][ref.rsplit("/", 1)[-1]]
    return node


def _variants(node: Schema) -> List[Schema]:
    return [v for v in node.get("anyOf", node.get("oneOf", [node])) if v.get("type") != "null"]


def _object_ref(schema: Schema, node: Schema) -> Optional[Tuple[str, Schema]]:
    """(name, definition) when a key holds a nested object definition."""
    for variant in _variants(node):
        ref = variant.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return name, schema["$defs"][name]
    return None


def _type_text(schema: Schema, node: Schema) -> str:
    parts = []
    for variant in _variants(node):
        if "$ref" in variant:
            parts.append("mapping")
        elif "const" in variant:
            parts.append(f"`{variant['const']}`")
        elif "enum" in variant:
            parts.append("one of " + ", ".join(f"`{v}`" for v in variant["enum"]))
        elif variant.get("type") == "array":
            item = variant.get("items", {}).get("type", "value")
            count = variant.get("minItems")
            same = count is not None and count == variant.get("maxItems")
            parts.append(f"list of {count} {item}s" if same else f"list of {item}s")
        elif variant.get("type") == "object":
            parts.append("mapping")
        else:
            kind = variant.get("type", "any")
            parts.append(" or ".join(kind) if isinstance(kind, list) else str(kind))
    nullable = any(v.get("type") == "null" for v in node.get("anyOf", []))
    text = " or ".join(dict.fromkeys(parts)) or "any"
    return text + (" or null" if nullable else "")


def _range_text(node: Schema) -> str:
    bits = []
    for variant in _variants(node):
        low, high = variant.get("minimum"), variant.get("maximum")
        if low is not None and high is not None:
            bits.append(f"{_plain(low)} to {_plain(high)}")
        elif low is not None:
            bits.append(f"at least {_plain(low)}")
        elif high is not None:
            bits.append(f"at most {_plain(high)}")
        if "exclusiveMinimum" in variant:
            bits.append(f"more than {_plain(variant['exclusiveMinimum'])}")
        if "exclusiveMaximum" in variant:
            bits.append(f"less than {_plain(variant['exclusiveMaximum'])}")
        if "pattern" in variant:
            bits.append(f"pattern `{variant['pattern']}`")
        if "maxLength" in variant:
            bits.append(f"at most {variant['maxLength']} characters")
    if "maxItems" in node and "minItems" not in node:
        bits.append(f"at most {node['maxItems']} entries")
    return "; ".join(bits)


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _code(value: Any) -> str:
    if value is NO_DEFAULT:
        return "required"
    if value is None:
        return "`null`"
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _plain(value)
    else:
        text = json.dumps(value)
    return f"`{text}`".replace("|", "\\|")


def _example(node: Schema, default: Any) -> str:
    """The schema's first example; else the default, the first allowed value or the
    lowest one, so every row shows a value to copy."""
    if node.get("examples"):
        return _code(node["examples"][0])
    if default is not NO_DEFAULT and default is not None:
        return _code(default)
    for variant in _variants(node):
        if variant.get("enum"):
            return _code(variant["enum"][0])
        if "minimum" in variant:
            return _code(variant["minimum"])
        if variant.get("type") == "boolean":
            return _code(True)
    return ""


def _cell(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace("``", "`")
            .replace("|", "\\|").replace("\n", " "))


def _rows(schema: Schema, definition: Schema, prefix: str,
          skip: Set[str] = frozenset()) -> Iterator[Tuple[str, Schema, bool]]:
    required = set(definition.get("required", []))
    for key, node in definition.get("properties", {}).items():
        if key in skip:
            continue
        yield prefix + key, node, key in required


def _table(schema: Schema, rows: List[Tuple[str, Schema, bool]]) -> List[str]:
    lines = ["| key | type | default | range / values | meaning | example |",
             "|---|---|---|---|---|---|"]
    for key, node, required in rows:
        default = NO_DEFAULT if required else node.get("default", None)
        example = (_code(FALLBACK_EXAMPLES[key]) if key in FALLBACK_EXAMPLES
                   and not node.get("examples") else _example(node, default))
        lines.append(f"| `{key}` | {_type_text(schema, node)} | {_code(default)} | "
                     f"{_cell(_range_text(node))} | {_cell(node.get('description', ''))} | "
                     f"{example} |")
    return lines


def _kinds(schema: Schema) -> List[Tuple[str, Schema]]:
    mapping = schema["properties"]["sources"]["items"]["discriminator"]["mapping"]
    return [(kind, schema["$defs"][ref.rsplit("/", 1)[-1]]) for kind, ref in mapping.items()]


def _common_keys(kinds: List[Tuple[str, Schema]]) -> List[str]:
    first = list(kinds[0][1]["properties"])
    return [k for k in first if all(k in d["properties"] for _, d in kinds)]


def render(schema: Schema) -> str:
    """The reference as Markdown (headings from level 2 on)."""
    out: List[str] = []
    nested: Dict[str, Schema] = {}
    top = schema["properties"]
    for section in SECTIONS:
        definition = _resolve(schema, top[section])
        out += [f"## `{section}`", "", definition.get("description", ""), ""]
        out += _table(schema, list(_rows(schema, definition, f"{section}.")))
        out.append("")
    scalars = [(k, n, False) for k, n in top.items() if k not in SECTIONS and k != "sources"]
    out += ["## Top-level keys", "", *_table(schema, scalars), ""]
    kinds = _kinds(schema)
    common = _common_keys(kinds)
    out += ["## `sources`", "", top["sources"].get("description", "") + ". "
            f"{_range_text(top['sources']).capitalize()}; each entry has the common keys "
            "below and the keys of its `type`.", "", "### Keys of every source", ""]
    first = kinds[0][1]
    kind_node = {"enum": [kind for kind, _ in kinds], "type": "string",
                 "description": "the kind of camera (the sections below)"}
    out += _table(schema, [(f"sources[].{k}", kind_node if k == "type" else
                            first["properties"][k], k in first.get("required", []))
                           for k in common])
    out.append("")
    for kind, definition in kinds:
        out += [f"### `type: {kind}`", "", _cell(definition.get("description", "")), ""]
        own = list(_rows(schema, definition, "sources[].", skip=set(common)))
        out += _table(schema, own) if own else ["No keys of its own."]
        out.append("")
    for _kind, definition in kinds:
        for key, node in definition["properties"].items():
            found = _object_ref(schema, node)
            if found:
                nested[key] = found[1]
    for key, definition in nested.items():
        out += [f"### `sources[].{key}`", "", definition.get("description", ""), ""]
        out += _table(schema, list(_rows(schema, definition, f"sources[].{key}.")))
        out.append("")
    return "\n".join(out)


def schema_keys(schema: Schema) -> Set[str]:
    """Every dotted key the schema declares, in the page's notation."""
    keys: Set[str] = set()
    top = schema["properties"]
    for key, node in top.items():
        if key in SECTIONS:
            keys |= {f"{key}.{k}" for k in _resolve(schema, node)["properties"]}
        elif key != "sources":
            keys.add(key)
    for _kind, definition in _kinds(schema):
        for key, node in definition["properties"].items():
            keys.add(f"sources[].{key}")
            found = _object_ref(schema, node)
            if found:
                keys |= {f"sources[].{key}.{k}" for k in found[1]["properties"]}
    return keys


def documented_keys(markdown: str) -> Set[str]:
    """The keys listed in the first column of the page's tables."""
    keys = set()
    for line in markdown.splitlines():
        if line.startswith("| `"):
            keys.add(line.split("`", 2)[1])
    return keys
