"""The editor's fields, generated from the config's JSON Schema: every option of each kind
a typed field (help, default, bounds, choices), form values <-> YAML entries, and where a
validation key is shown."""

from __future__ import annotations

import pytest
from camera_service.core.errors import ConfigError
from camera_service.settings_page import schema
from camera_service.settings_page.http_api import error_location


def fields(kind):
    return {f["name"]: f for f in schema.describe()["kinds"][kind]["fields"]}


def test_each_kind_has_its_own_typed_fields_from_the_schema():
    url = fields("url")
    assert list(url)[:3] == ["name", "type", "url"]
    assert url["reader"]["kind"] == "enum" and "mjpeg" in url["reader"]["choices"]
    assert url["timeout"]["kind"] == "float" and url["timeout"]["exclusive_minimum"] == 0
    assert "seconds" in url["timeout"]["help"]
    assert url["rtsp_transport"]["kind"] == "enum" and url["verify_tls"]["kind"] == "bool"
    assert not any(url[name]["advanced"] for name in ("url", "reader", "timeout"))
    v4l2 = fields("v4l2")
    assert v4l2["controls"]["kind"] == "map" and v4l2["controls"]["advanced"]
    mount = v4l2["mount"]
    assert mount["kind"] == "group" and mount["advanced"]
    assert {f["name"]: f["kind"] for f in mount["fields"]}["xyz"] == "vector"
    assert fields("file")["path"]["required"]
    assert "more" not in url and "more" not in v4l2  # no free YAML box


def test_entry_round_trip_writes_what_the_fields_say():
    entry = {"name": "front", "type": "v4l2", "device": "/dev/v4l/by-id/x", "width": 1280,
             "fps": 30.0, "controls": {"brightness": 10}, "format": "MJPG",
             "mount": {"xyz": [0.3, 0.0, 0.1]}}
    page = schema.entry_to_page(entry)
    page.update(width="640", controls={"brightness": "12", "auto": "true"},
                native_jpeg=True)  # as typed; native_jpeg at its default
    assert schema.page_to_entry(page, 0) == {
        **entry, "width": 640, "controls": {"brightness": 12, "auto": True}}


def test_empty_fields_and_defaults_are_left_out():
    page = {"name": "a", "type": "url", "url": "http://cam/x", "timeout": "", "reader": "auto",
            "verify_tls": True, "mount": {"xyz": ["", "", ""]}}
    assert schema.page_to_entry(page, 0) == {"name": "a", "type": "url", "url": "http://cam/x"}


@pytest.mark.parametrize("values, key", [
    ({"name": "a", "type": "synthetic", "fps": "fast"}, "sources[2].fps"),
    ({"name": "a", "type": "synthetic", "width": "1.5"}, "sources[2].width"),
    ({"name": "a", "type": "synthetic", "native_jpeg": "yes"}, "sources[2].native_jpeg"),
    ({"name": "a", "type": "synthetic", "url": "x"}, "sources[2].url"),
    ({"name": "a", "type": "webcam"}, "sources[2].type"),
    ({"name": "a", "type": "v4l2", "mount": {"xyz": [1, "x", 2]}}, "sources[2].mount.xyz[1]"),
])
def test_bad_form_values_name_their_field(values, key):
    with pytest.raises(ConfigError) as caught:
        schema.page_to_entry(values, 2)
    assert caught.value.key == key


@pytest.mark.parametrize("key, where", [
    ("sources[1].fps", (1, "fps")),
    ("sources[0].device", (0, "device")),
    ("sources[3].controls.gain", (3, "controls.gain")),
    ("sources[0].mount.xyz", (0, "mount.xyz")),
    ("sources[2]", (2, None)),
    ("sources", (None, None)),
    ("service.port", (None, None)),
])
def test_error_location(key, where):
    assert error_location(key) == where
