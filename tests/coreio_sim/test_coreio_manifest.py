"""Manifest checks the CORE I/O portal makes (coreio_sim.manifest)."""

from __future__ import annotations

import pytest
from coreio_spx_factory import manifest_dict

from coreio_sim.errors import InstallError
from coreio_sim.manifest import parse_manifest


def test_valid_manifest_is_parsed_with_its_lists():
    manifest = parse_manifest(
        manifest_dict(files_to_save=["config/cameras.yaml"], directories_to_save=["data"])
    )
    assert manifest.extension_name == "tiny-ext"
    assert manifest.version_tuple == (1, 0, 0)
    assert manifest.images == ("image.tar.gz",)
    assert manifest.files_to_save == ("config/cameras.yaml",)
    assert manifest.directories_to_save == ("data",)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("extension_name", "my camera", "letters, digits"),
        ("extension_name", "my-coreio-thing", "'coreio'"),
        ("extension_name", "Mission_Control_x", "'mission_control'"),
        ("version", "1.0", "X.Y.Z"),
        ("version", "1.0.0-beta", "X.Y.Z"),
        ("installation_target", "laptop", "installation_target"),
        ("date", "yesterday", "ISO-8601"),
        ("images", "image.tar.gz", "list of non-empty strings"),
        ("images", ["sub/image.tar.gz"], "plain file name"),
        ("files_to_save", ["/etc/passwd"], "relative to the extension folder"),
        ("directories_to_save", ["../other"], "without '..'"),
        ("udev_rules", 5, "must be a string"),
    ],
)
def test_invalid_field_is_named_in_one_line(field, value, fragment):
    with pytest.raises(InstallError) as caught:
        parse_manifest(manifest_dict(**{field: value}))
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_name_and_non_object_are_rejected():
    data = manifest_dict()
    del data["extension_name"]
    with pytest.raises(InstallError, match="'extension_name' is missing"):
        parse_manifest(data)
    with pytest.raises(InstallError, match="JSON object"):
        parse_manifest(["not", "an", "object"])
