"""Install, upgrade and uninstall a tiny real extension with a real Docker engine."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time

import pytest
from coreio_spx_factory import manifest_dict

# Import from submodules: under pytest, tests/coreio_sim shadows the package's own __init__.
from coreio_sim.__main__ import main as cli_main
from coreio_sim.docker_cli import journald_available
from coreio_sim.errors import InstallError
from coreio_sim.installer import OVERRIDE_FILE, install, list_installed, uninstall

pytestmark = pytest.mark.docker

NAME = "tiny-ext-test"
CREDS = "/opt/payload_credentials/payload_guid_and_secret"


def _compose(tag: str) -> dict:
    return {
        "version": "3.5",
        "services": {
            "tiny": {
                "image": tag,
                "network_mode": "host",
                "restart": "unless-stopped",
                "logging": {"driver": "journald"},
                "devices": ["/dev/video0:/dev/video0"],
                "volumes": [
                    f"{CREDS}:{CREDS}:ro",
                    f"/data/.extensions/{NAME}/config:/config:ro",
                ],
                "command": ["/bin/sh", "-c", f"cat /config/operator.yaml {CREDS}; sleep 600"],
            }
        },
    }


@pytest.fixture
def spx_version(make_spx, tiny_image_archive):
    """``spx_version("1.0.0", default_config)`` -> a .spx of the tiny extension."""

    def build(version: str, default_config: bytes):
        tag = f"coreio-sim-test/tiny:{version}"
        manifest = manifest_dict(
            NAME, version, files_to_save=["config/operator.yaml"], directories_to_save=["data"]
        )
        return make_spx(
            manifest=manifest,
            compose=_compose(tag),
            extra={"config/operator.yaml": default_config},
            image=tiny_image_archive(tag),
        )

    return build


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "coreio"
    yield root
    with contextlib.suppress(InstallError):
        uninstall(NAME, root)


def _container(installed) -> dict:
    ids = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            f"label=com.docker.compose.project={installed.project}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(ids) == 1, ids
    out = subprocess.run(["docker", "inspect", ids[0]], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def _logs_show(info: dict, text: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["docker", "logs", info["Id"]], capture_output=True, text=True)
        if text in out.stdout + out.stderr:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def test_install_upgrade_uninstall_keeps_operator_files(spx_version, root, tmp_path):
    creds = tmp_path / "creds"
    creds.write_text("guid-1234\nsecret-5678\n")
    first = install(spx_version("1.0.0", b"shipped: 1\n"), root, credentials=creds)

    ext = root / "data" / ".extensions" / NAME
    assert first.extension_dir == ext.resolve()
    assert (root / "etc" / "udev" / "rules.d" / "99-tiny.rules").is_file()
    assert (root / CREDS.lstrip("/")).read_text() == creds.read_text()
    override = root / "var" / "lib" / "coreio_sim" / NAME / OVERRIDE_FILE
    assert override.is_file()
    assert not (ext / OVERRIDE_FILE).exists()  # the extension's own files are untouched

    info = _container(first)
    assert info["State"]["Running"]
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    expected_driver = "journald" if journald_available() else "json-file"
    assert info["HostConfig"]["LogConfig"]["Type"] == expected_driver
    mounts = {m["Destination"]: m["Source"] for m in info["Mounts"]}
    assert mounts[CREDS] == str(root.resolve() / CREDS.lstrip("/"))
    assert mounts["/config"] == str(ext.resolve() / "config")

    # the operator edits the config and leaves data; an upgrade ships a new default
    (ext / "config" / "operator.yaml").write_text("operator: edited\n")
    (ext / "data").mkdir()
    (ext / "data" / "notes.txt").write_text("kept\n")
    second = install(spx_version("1.1.0", b"shipped: 2\n"), root)
    assert second.manifest.version == "1.1.0"
    assert (ext / "config" / "operator.yaml").read_text() == "operator: edited\n"
    assert (ext / "data" / "notes.txt").read_text() == "kept\n"
    info = _container(second)
    assert info["Config"]["Image"] == "coreio-sim-test/tiny:1.1.0"
    assert info["State"]["Running"]
    assert _logs_show(info, "operator: edited")  # the new container reads the kept config
    assert [item.manifest.version for item in list_installed(root)] == ["1.1.0"]

    uninstall(NAME, root)
    assert not ext.exists()
    assert not (root / "etc" / "udev" / "rules.d" / "99-tiny.rules").exists()
    assert (root / CREDS.lstrip("/")).is_file()  # the CORE I/O's file stays
    assert list_installed(root) == []
    gone = subprocess.run(
        ["docker", "image", "inspect", "coreio-sim-test/tiny:1.1.0"], capture_output=True
    )
    assert gone.returncode != 0


def test_cli_install_list_uninstall(spx_version, root, capsys):
    spx = spx_version("2.0.0", b"shipped: cli\n")
    assert cli_main(["install", str(spx), "--root", str(root), "--no-start"]) == 0
    assert cli_main(["list", "--root", str(root)]) == 0
    assert f"{NAME} 2.0.0" in capsys.readouterr().out
    assert cli_main(["uninstall", NAME, "--root", str(root)]) == 0
    assert cli_main(["uninstall", NAME, "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"error: no extension '{NAME}' is installed" in err
    assert "Traceback" not in err
