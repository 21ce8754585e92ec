"""The editor's form values <-> YAML source entries, and where a validation key is shown."""

from __future__ import annotations

import pytest
from camera_service.core.errors import ConfigError
from camera_service.settings_page import schema
from camera_service.settings_page.http_api import error_location


def test_fields_follow_the_config_module():
    fields = schema.fields()
    assert list(fields)[:2] == ["name", "type"]
    assert fields["width"] == "int" and fields["fps"] == "float"
    assert "device" in fields
    described = schema.describe()
    assert "v4l2" in described["kinds"] and "controls" in described["kinds"]["v4l2"]


def test_entry_round_trip_keeps_every_key():
    entry = {"name": "front", "type": "v4l2", "device": "/dev/v4l/by-id/x", "width": 1280,
             "fps": 30.0, "controls": {"brightness": 10}, "format": "MJPG"}
    page = schema.entry_to_page(entry)
    assert page["more"] == "controls:\n  brightness: 10\nformat: MJPG"
    page["width"] = "640"  # as typed in the form
    assert schema.page_to_entry(page, 0) == {**entry, "width": 640}


def test_empty_fields_are_left_out():
    assert schema.page_to_entry({"name": "a", "type": "synthetic", "fps": "", "more": ""}, 0) \
        == {"name": "a", "type": "synthetic"}


@pytest.mark.parametrize("values, key", [
    ({"name": "a", "fps": "fast"}, "sources[2].fps"),
    ({"name": "a", "width": "1.5"}, "sources[2].width"),
    ({"name": "a", "more": "a: [1"}, "sources[2].more"),
    ({"name": "a", "more": "- 1"}, "sources[2].more"),
    ({"name": "a", "more": "fps: 3"}, "sources[2].more"),
])
def test_bad_form_values_name_their_field(values, key):
    with pytest.raises(ConfigError) as caught:
        schema.page_to_entry(values, 2)
    assert caught.value.key == key


@pytest.mark.parametrize("key, where", [
    ("sources[1].fps", (1, "fps")),
    ("sources[0].device", (0, "device")),
    ("sources[3].controls.gain", (3, "more")),
    ("sources[2]", (2, None)),
    ("sources", (None, None)),
    ("service.port", (None, None)),
])
def test_error_location(key, where):
    assert error_location(key) == where
