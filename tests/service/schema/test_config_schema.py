"""The config schema is the one declaration: every option each source kind reads is in the
JSON Schema exactly once, with a type and a description, and the loader never lets a
malformed mapping through as anything but one ConfigError line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from camera_service.core.errors import ConfigError
from camera_service.schema.document import ConfigFile, json_schema
from camera_service.schema.sources import KIND_OPTIONS, SOURCE_ENTRIES, SourceCommon
from camera_service.sources import _KINDS, create_source, known_kinds
from camera_service.sources.base import SourceSettings

# Enough for a kind to build without hardware; only keys a kind cannot do without.
_REQUIRED = {"url": {"url": "http://127.0.0.1:9/x"}, "file": {"path": "/nonexistent.avi"},
             "v4l2": {"device": "/dev/video0"}, "synthetic": {}}


def _accepted_by_code(kind: str):
    """The option keys ``kind`` accepts, found by asking the source class itself: every key
    of its options model builds, and a key outside it is refused as unknown."""
    model = SOURCE_ENTRIES[kind]
    candidates = [name for name in model.model_fields if name not in SourceCommon.model_fields]
    accepted = []
    for name in candidates:
        options = dict(_REQUIRED[kind])
        try:
            create_source(kind, SourceSettings("probe", options={**options, name: None}))
        except ConfigError as err:
            if "unknown option" in err.problem:
                continue
        accepted.append(name)
    with pytest.raises(ConfigError, match="unknown option"):
        create_source(kind, SourceSettings("probe", options={**_REQUIRED[kind],
                                                             "no_such_option": 1}))
    return accepted


def _properties(schema, kind):
    entry = SOURCE_ENTRIES[kind].__name__
    return schema["$defs"][entry]["properties"]


def _types(prop, schema):
    found = []
    for part in prop.get("anyOf", [prop]):
        if "$ref" in part:
            found.append("object")
        elif "type" in part:
            kind = part["type"]
            found.extend(kind if isinstance(kind, list) else [kind])
    return [kind for kind in found if kind != "null"]


def test_every_kind_the_code_registers_has_a_schema():
    assert sorted(SOURCE_ENTRIES) == known_kinds() == sorted(_KINDS)


@pytest.mark.parametrize("kind", sorted(SOURCE_ENTRIES))
def test_every_option_a_kind_accepts_is_in_the_schema_once_typed_and_described(kind):
    schema = json_schema()
    props = _properties(schema, kind)
    accepted = _accepted_by_code(kind)
    assert accepted, kind
    own = KIND_OPTIONS[kind].model_fields
    for name in [*accepted, *SourceCommon.model_fields]:
        assert name in props, (kind, name)
        # declared exactly once: by the kind or as a common key, never both
        assert (name in own) + (name in SourceCommon.model_fields) == 1, (kind, name)
        assert _types(props[name], schema), (kind, name)
        assert props[name].get("description"), (kind, name)
    assert set(props) == set(accepted) | set(SourceCommon.model_fields)


def test_every_key_of_every_section_is_typed_and_described():
    schema = json_schema()
    models = dict(schema["$defs"])
    models["ConfigFile"] = schema
    for name, model in models.items():
        for key, prop in model.get("properties", {}).items():
            assert prop.get("description"), (name, key)
            assert _types(prop, schema), (name, key)


def test_the_document_lists_the_sources_as_a_union_on_type():
    sources = json_schema()["properties"]["sources"]
    union = sources["items"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == set(known_kinds())


def test_json_export_command():
    out = subprocess.run([sys.executable, "-m", "camera_service.schema", "--json"],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["properties"]["robot"]


def test_a_whole_file_validates_against_the_document_model():
    document = ConfigFile.model_validate({"sources": [
        {"name": "front", "type": "v4l2", "device": "auto", "format": "MJPG"},
        {"name": "ip", "type": "url", "url": "rtsp://cam/stream", "timeout": 3}]})
    assert [entry.type for entry in document.sources] == ["v4l2", "url"]
