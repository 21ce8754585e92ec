"""`check` on broken packages: one case per CORE I/O rule, each starting from our own valid
package and breaking exactly one thing."""

from __future__ import annotations

import json
from typing import Callable, Dict

import pytest
import yaml
from spx_fixtures import OUR_ARCHIVE, OUR_TAG, image_archive, our_files

from spx_tools.check import check_spx
from spx_tools.findings import ERROR, WARNING

Files = Dict[str, bytes]


def _update(target: dict, changes: dict) -> None:
    """Set each key of `changes` in `target`; a None value removes the key."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


def _manifest(**changes) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        data = json.loads(files["manifest.json"])
        _update(data, changes)
        files["manifest.json"] = json.dumps(data).encode()
    return mutate


def _service(**changes) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        compose = yaml.safe_load(files["docker-compose.yml"])
        _update(next(iter(compose["services"].values())), changes)
        files["docker-compose.yml"] = yaml.safe_dump(compose).encode()
    return mutate


def _replace(name: str, data: bytes | None) -> Callable[[Files], None]:
    def mutate(files: Files) -> None:
        if data is None:
            files.pop(name)
        else:
            files[name] = data
    return mutate


def _volumes(*volumes: str) -> Callable[[Files], None]:
    return _service(volumes=["/dev:/dev:ro", "./config:/config", *volumes])


RULES = "70-spot-camera-service.rules"
CASES = {
    # case: (rule id, mutation, level, text expected in the finding)
    "manifest-json": ("manifest-json", _replace("manifest.json", b"{not json"), ERROR,
                      "not valid JSON"),
    "manifest-name": ("manifest-name", _manifest(extension_name="my camera!"), ERROR,
                      "letters"),
    "manifest-name-coreio": ("manifest-name", _manifest(extension_name="coreio_cam"), ERROR,
                             "coreio"),
    "manifest-name-mission": ("manifest-name", _manifest(extension_name="Mission_Control_x"),
                              ERROR, "mission_control"),
    "manifest-version": ("manifest-version", _manifest(version="1.0"), ERROR, "X.Y.Z"),
    "manifest-images-missing": ("manifest-images",
                                _manifest(images=[OUR_ARCHIVE, "other.tar.gz"]), ERROR,
                                "other.tar.gz"),
    "manifest-images-unlisted": ("manifest-images",
                                 _replace("extra.tar.gz", image_archive(tags=("x:1",))),
                                 ERROR, "not listed"),
    "manifest-icon": ("manifest-icon", _replace("icon.png", None), ERROR, "icon"),
    "manifest-udev-rules": ("manifest-udev-rules", _replace(RULES, None), ERROR,
                            "udev_rules"),
    "manifest-target": ("manifest-target", _manifest(installation_target="robot"), ERROR,
                        "spot"),
    "manifest-date": ("manifest-date", _manifest(date="yesterday"), ERROR, "ISO-8601"),
    "manifest-saved-paths": ("manifest-saved-paths", _manifest(directories_to_save=["/etc"]),
                             ERROR, "relative"),
    "manifest-description": ("manifest-description", _manifest(description=None), WARNING,
                             "description"),
    "image-loadable": ("image-loadable", _replace(OUR_ARCHIVE, image_archive(drop_layer=True)),
                       ERROR, "missing"),
    "image-loadable-corrupt": ("image-loadable", _replace(OUR_ARCHIVE, b"\x1f\x8b garbage"),
                               ERROR, "not a readable"),
    "image-arch": ("image-arch", _replace(OUR_ARCHIVE, image_archive(arch="amd64")), ERROR,
                   "linux/arm64"),
    "compose-yaml": ("compose-yaml", _replace("docker-compose.yml", b"services: [\n"), ERROR,
                     "YAML"),
    "compose-image": ("compose-image", _service(image="someone/else:1"), ERROR,
                      "neither in the .spx"),
    "compose-image-build": ("compose-image", _service(image=None, build="."), ERROR,
                            "cannot build"),
    "compose-devices": ("compose-devices", _service(devices=["/dev/video0:/dev/video0"]),
                        ERROR, "device_cgroup_rules"),
    "compose-ports": ("compose-ports", _service(command=["--port", "50051"]), ERROR,
                      "21000-22000"),
    "compose-ports-reserved": ("compose-ports", _service(command=["--port=21443"]), ERROR,
                               "reserved"),
    "compose-ports-published": ("compose-ports",
                                _service(network_mode=None, ports=["8080:21230"]), ERROR,
                                "8080"),
    "config-port": ("compose-ports",
                    _replace("config/config.yaml", b"service:\n  port: 50051\n"), ERROR,
                    "50051"),
    "compose-network": ("compose-network", _service(network_mode=None), WARNING,
                        "network_mode"),
    "compose-credentials": ("compose-credentials", _volumes(), WARNING, "not mounted"),
    "compose-credentials-rw": ("compose-credentials",
                               _volumes("/opt/payload_credentials:/opt/payload_credentials"),
                               WARNING, ":ro"),
    "compose-memory": ("compose-memory", _service(mem_limit=None, memswap_limit=None), ERROR,
                       "mem_limit"),
    "compose-restart": ("compose-restart", _service(restart="no"), ERROR, "unless-stopped"),
    "compose-logging": ("compose-logging", _service(logging=None), WARNING, "journald"),
    "compose-user": ("compose-user", _service(user="root"), ERROR, "root"),
    "compose-user-image": ("compose-user",
                           _service(user=None, image="registry.example.com/cam:1"), WARNING,
                           "may run as root"),
    "compose-privileged": ("compose-privileged", _service(privileged=True), WARNING,
                           "privileged"),
    "compose-hardening": ("compose-hardening", _service(cap_drop=None), WARNING, "cap_drop"),
    "compose-healthcheck": ("compose-healthcheck", _service(healthcheck=None), WARNING,
                            "healthcheck"),
    "compose-settings": ("compose-settings", _service(volumes=[
        "/dev:/dev:ro", "/opt/payload_credentials:/opt/payload_credentials:ro",
        "./config:/config:ro"]), WARNING, "cannot save /config/config.yaml"),
    "compose-settings-file": ("compose-settings", _service(volumes=[
        "/dev:/dev:ro", "/opt/payload_credentials:/opt/payload_credentials:ro",
        "./config/config.yaml:/config/config.yaml"]), WARNING, "mount its folder"),
    "udev-syntax": ("udev-syntax", _replace(RULES, b'KERNEL="video*" GROUP\n'), ERROR,
                    "line 1"),
    "udev-permissions": ("udev-permissions",
                         _replace(RULES, b'SUBSYSTEM=="video4linux", MODE="0666"\n'), WARNING,
                         "every user"),
}


def test_our_package_passes_without_findings(make_spx):
    assert check_spx(make_spx(our_files()), use_compose_tool=False) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_flags_its_mistake(case, make_spx):
    rule, mutate, level, text = CASES[case]
    files = our_files()
    mutate(files)
    findings = check_spx(make_spx(files), use_compose_tool=False)
    matching = [f for f in findings if f.rule == rule and f.level == level
                and text in f.message + f.where]
    assert matching, "\n".join(f.line() for f in findings)


def test_root_image_user_without_compose_user_is_an_error(make_spx):
    files = our_files()
    files[OUR_ARCHIVE] = image_archive(user="")
    _service(user=None)(files)
    findings = check_spx(make_spx(files), use_compose_tool=False)
    assert [f.rule for f in findings if f.level == ERROR] == ["compose-user"]


def test_not_a_gzip_tar_is_one_error(tmp_path):
    path = tmp_path / "broken.spx"
    path.write_bytes(b"PK\x03\x04 a zip file")
    findings = check_spx(path)
    assert [(f.rule, f.level) for f in findings] == [("spx-archive", ERROR)]


def test_missing_manifest_and_compose_are_errors(make_spx):
    findings = check_spx(make_spx({OUR_ARCHIVE: image_archive(tags=(OUR_TAG,))}),
                         use_compose_tool=False)
    assert {"manifest-json", "compose-yaml"} <= {f.rule for f in findings}
