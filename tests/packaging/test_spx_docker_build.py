"""With a Docker engine: build the real arm64 image from the locally made base image and
host-downloaded wheels, write the .spx, check it, and run the image under arm64 emulation.

Slow under emulation (minutes cold); the .spx is cached by input hash (build_or_reuse), so
a rerun with unchanged inputs only runs the checks.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from spx_tools import docker_engine, paths
from spx_tools.build import build_or_reuse, load_image
from spx_tools.check import check_spx
from spx_tools.emulation import aarch64_registered, host_architecture
from spx_tools.progress import Progress

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def built_spx() -> Path:
    reason = docker_engine.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    if host_architecture() != "arm64" and not aarch64_registered() and os.geteuid() != 0:
        pytest.skip("arm64 emulation is not registered and this is not root")
    start = time.monotonic()
    spx = build_or_reuse("arm64", Progress())
    print(f"\nbuild_or_reuse: {time.monotonic() - start:.0f} s, {spx.stat().st_size} bytes")
    return spx


@pytest.fixture(scope="module")
def image(built_spx: Path) -> str:
    """The id of the image inside the .spx (loaded from it: the tag may belong to a
    parallel build of another architecture)."""
    return load_image(built_spx)


def test_built_spx_passes_check(built_spx):
    findings = check_spx(built_spx, expected_arch="arm64")
    assert findings == [], "\n".join(f.line() for f in findings)


def test_image_is_arm64_non_root_and_runs_the_cli(image):
    info = docker_engine.image_inspect(image)
    assert (info["Architecture"], info["Os"], info["Config"]["User"]) == \
        ("arm64", "linux", "1000:1000")
    result = docker_engine.run_image(image, ["--help"], arch="arm64")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower() and "--config" in result.stdout


def test_no_wheels_pip_or_build_inputs_remain(image):
    script = ("find / -xdev \\( -name '*.whl' -o -path /tmp/wheels \\) -print; "
              "/opt/camera-service/venv/bin/python3 -c 'import pip' 2>/dev/null && echo pip; "
              "/opt/camera-service/venv/bin/python3 -c 'import robot_sim' 2>/dev/null && echo sim; "
              "true")
    result = docker_engine.run_image(image, ["-c", script], arch="arm64",
                                     docker_args=["--entrypoint", "sh"])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout


def _compose_run_args() -> list[str]:
    """docker run flags of the committed compose file's security and device settings."""
    (service,) = yaml.safe_load(paths.COMPOSE_FILE.read_text())["services"].values()
    args = ["--user", service["user"], "--read-only", "--memory", service["mem_limit"]]
    args += [f"--group-add={g}" for g in service["group_add"]]
    args += [f"--device-cgroup-rule={r}" for r in service["device_cgroup_rules"]]
    args += [f"--cap-drop={c}" for c in service["cap_drop"]]
    args += [f"--security-opt={o}" for o in service["security_opt"]]
    args += ["-v", next(v for v in service["volumes"] if v.startswith("/dev:"))]
    return args


def test_camera_plugged_in_after_start_is_reachable(image, tmp_path):
    """The container starts with no camera; a V4L2 node created on the host afterwards is
    visible and allowed (ENXIO: no driver behind it here) while other devices stay denied."""
    if os.geteuid() != 0:
        pytest.skip("creating device nodes in the host's /dev needs root")
    camera, other = f"/dev/spx-test-video-{os.getpid()}", f"/dev/spx-test-other-{os.getpid()}"
    script = ("import os, sys, time\n"
              "print('started', flush=True)\n"
              f"while not os.path.exists({other!r}): time.sleep(0.2)\n"
              f"for path in ({camera!r}, {other!r}):\n"
              "    try:\n"
              "        os.close(os.open(path, os.O_RDWR))\n"
              "        print('opened', flush=True)\n"
              "    except OSError as e:\n"
              "        print(e.errno, flush=True)\n")
    proc = subprocess.Popen([docker_engine.docker(), "run", "--rm", "--platform", "linux/arm64",
                             *_compose_run_args(), "--entrypoint",
                             "/opt/camera-service/venv/bin/python3", image, "-c", script],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        os.mknod(camera, stat.S_IFCHR | 0o660, os.makedev(81, 200))  # V4L2 (major 81)
        os.chown(camera, 0, 44)  # root:video 0660, as the udev rules make it
        os.chmod(camera, 0o660)  # (mknod applies the umask)
        os.mknod(other, stat.S_IFCHR | 0o666, os.makedev(189, 200))  # raw USB: denied
        os.chmod(other, 0o666)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
        for path in (camera, other):
            if os.path.exists(path):
                os.unlink(path)
    assert out.split() == [str(errno.ENXIO), str(errno.EPERM)]


def test_python_mismatch_between_base_and_wheels_is_one_clear_error(built_spx, tmp_path):
    """Wheels for 3.8 on the 3.11 base: the Dockerfile stops before installing anything."""
    from spx_tools.base_image import base_tag
    from spx_tools.build import BuildOptions, build_spx
    from spx_tools.errors import PackagingError

    options = BuildOptions(base_image=base_tag("arm64"), python_version="3.8",
                           output=tmp_path / "x.spx")
    with pytest.raises(PackagingError) as failure:
        build_spx(options, Progress(quiet=True))
    message = str(failure.value)
    assert "\n" not in message
    assert "base image has Python 3.11 but the wheels are for 3.8" in message
    assert "--python-version 3.11" in message


def test_rebuild_from_the_same_inputs_gives_the_same_package(built_spx, tmp_path, monkeypatch):
    """Same sources and build date: same manifest, same member list, same image content."""
    import datetime
    import json

    from spx_tools import image_archive
    from spx_tools.archive import open_member, read_spx
    from spx_tools.build import BuildOptions, build_spx

    first = read_spx(built_spx)
    date = json.loads(first.files["manifest.json"])["date"]
    epoch = int(datetime.datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    result = build_spx(BuildOptions(local_base=True, output=tmp_path / "again.spx"),
                       Progress(quiet=True))
    second = read_spx(result.spx)
    assert second.files["manifest.json"] == first.files["manifest.json"]
    assert second.sizes.keys() == first.sizes.keys()
    (name,) = first.archives
    with open_member(built_spx, name) as stream:
        digest = image_archive.inspect(stream, name, digest=True).content_digest
    assert result.content_digest == digest


def test_every_module_of_the_shipped_package_imports_in_the_image(image):
    """The image holds the product only: each module of its camera_service package imports
    under the image's own Python, and none imports a development package."""
    walk = (Path(__file__).parent / "image_package_walk.py").read_text()
    result = docker_engine.run_image(image, ["-c", walk], arch="arm64",
                                     docker_args=["--entrypoint",
                                                  "/opt/camera-service/venv/bin/python3"])
    assert result.returncode == 0, result.stdout + result.stderr
    imported = int(result.stdout.split("imported ", 1)[1].split()[0])
    package = paths.REPO_ROOT / "service" / "camera_service"
    # every module of the source tree but the __main__ ones and the top-level __init__
    expected = [p for p in package.rglob("*.py") if p.name != "__main__.py"]
    assert imported == len(expected) - 1, result.stdout
