"""The host override compose document (coreio_sim.compose_override); pure, no Docker."""

from __future__ import annotations

import pytest

from coreio_sim.compose_override import FALLBACK_LOGGING, build_override
from coreio_sim.errors import InstallError
from coreio_sim.layout import CoreIoRoot

CREDS = "/opt/payload_credentials/payload_guid_and_secret"


@pytest.fixture
def tree(tmp_path):
    return CoreIoRoot.at(tmp_path / "coreio")


def _service(**fields):
    return {"version": "3.5", "services": {"cam": {"image": "cam:1", **fields}}}


def test_coreio_paths_are_moved_into_the_tree_other_paths_are_not(tree):
    ext = tree.extension_dir("cam")
    compose = _service(
        volumes=[
            f"{CREDS}:{CREDS}:ro",
            "/data/.extensions/cam/config:/config",
            "./state:/state",
            "/etc/localtime:/etc/localtime:ro",
            "named:/cache",
            {"type": "bind", "source": "/data/shared", "target": "/shared", "read_only": True},
        ]
    )
    override = build_override(compose, tree, ext, journald_available=True)
    assert override.document["version"] == "3.5"
    assert override.document["services"]["cam"]["volumes"] == [
        f"{tree.root}{CREDS}:{CREDS}:ro",
        f"{tree.root}/data/.extensions/cam/config:/config",
        {
            "type": "bind",
            "source": f"{tree.root}/data/shared",
            "target": "/shared",
            "read_only": True,
        },
    ]
    assert override.credentials_mounted
    assert set(override.directories) == {
        ext / "config",
        ext / "state",
        tree.root / "data" / "shared",
    }
    assert not override.notes


def test_credentials_folder_mount_counts_as_credentials_and_is_created(tree):
    compose = _service(volumes=["/opt/payload_credentials:/opt/payload_credentials:ro"])
    override = build_override(compose, tree, tree.extension_dir("cam"), journald_available=True)
    assert override.credentials_mounted
    assert override.directories == [tree.credentials_file.parent]


def test_nothing_to_adapt_gives_an_empty_document(tree):
    compose = _service(volumes=["./config:/config:ro"], logging={"driver": "json-file"})
    override = build_override(compose, tree, tree.extension_dir("cam"), journald_available=False)
    assert override.document == {}
    assert not override.credentials_mounted


@pytest.mark.parametrize(
    ("service_logging", "daemon_default", "journald", "replaced"),
    [
        ({"driver": "journald"}, "json-file", False, True),
        ({"driver": "journald"}, "json-file", True, False),
        (None, "journald", False, True),
        (None, "json-file", False, False),
        ({"driver": "json-file"}, "journald", False, False),
    ],
)
def test_journald_is_replaced_only_where_missing(
    tree, service_logging, daemon_default, journald, replaced
):
    fields = {"logging": service_logging} if service_logging else {}
    override = build_override(
        _service(**fields), tree, tree.extension_dir("cam"), journald, daemon_default
    )
    services = override.document.get("services", {})
    assert ("logging" in services.get("cam", {})) is replaced
    if replaced:
        assert services["cam"]["logging"] == FALLBACK_LOGGING
        assert any("no journald" in note for note in override.notes)


def test_absent_devices_are_fed_from_dev_null_with_a_note(tree):
    compose = _service(devices=["/dev/video0:/dev/video0:rwm", "/dev/fuse", "/dev/video1:/dev/cam"])
    override = build_override(
        compose,
        tree,
        tree.extension_dir("cam"),
        journald_available=True,
        device_exists=lambda path: path == "/dev/fuse",
    )
    assert override.document["services"]["cam"]["devices"] == [
        "/dev/null:/dev/video0:rwm",
        "/dev/null:/dev/cam",
    ]
    assert len(override.notes) == 2
    assert "/dev/video0 does not exist" in override.notes[0]


def test_malformed_compose_is_refused(tree):
    ext = tree.extension_dir("cam")
    with pytest.raises(InstallError, match="no 'services'"):
        build_override({"version": "3"}, tree, ext, True)
    with pytest.raises(InstallError, match="malformed volume"):
        build_override(_service(volumes=[42]), tree, ext, True)
