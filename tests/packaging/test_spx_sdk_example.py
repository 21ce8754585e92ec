"""`check` on a reproduction of the SDK example's extension (fixtures/sdk_example): it must
flag the device, port and root-user problems the product replaces (SPEC section 6)."""

from __future__ import annotations

from pathlib import Path

from spx_fixtures import image_archive

from spx_tools import compose_rules
from spx_tools.check import check_spx
from spx_tools.cli import main
from spx_tools.findings import ERROR

FIXTURE = Path(__file__).parent / "fixtures" / "sdk_example"
TAG = "custom_parameter_image_server:l4t"


def _sdk_spx(make_spx) -> Path:
    files = {name: (FIXTURE / name).read_bytes()
             for name in ("manifest.json", "docker-compose.yml")}
    # Their Dockerfile.l4t has no USER: the image runs as root.
    files["custom_parameter_image_server.tar.gz"] = image_archive(tags=(TAG,), user="")
    files["icon.png"] = b"\x89PNG\r\n\x1a\n"
    return make_spx(files, "custom_parameter_image_server.spx")


def test_check_flags_device_port_root_and_memory(make_spx):
    findings = check_spx(_sdk_spx(make_spx), use_compose_tool=False)
    errors = {f.rule: f.message for f in findings if f.level == ERROR}
    assert set(errors) == {"compose-devices", "compose-ports", "compose-user",
                           "compose-memory"}
    assert "/dev/video0" in errors["compose-devices"]
    assert "50051" in errors["compose-ports"]
    assert "root" in errors["compose-user"]


def test_compose_file_alone_shows_the_same_errors_except_user():
    compose, problems = compose_rules.parse((FIXTURE / "docker-compose.yml").read_bytes())
    assert problems == [] and compose is not None
    findings = compose_rules.lint(compose, compose_rules.ImageFacts())
    rules = {f.rule for f in findings if f.level == ERROR}
    # Without the image the user is unknown (a warning); image and devices and port are not.
    assert {"compose-devices", "compose-ports", "compose-memory", "compose-image"} <= rules


def test_cli_check_prints_one_line_per_finding_and_fails(make_spx, capsys):
    status = main(["check", "--no-compose-tool", str(_sdk_spx(make_spx))])
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 1
    assert out[-1].startswith("check FAILED: 4 error(s)")
    assert all(line.split()[0] in ("ERROR", "WARNING") for line in out[:-1])
