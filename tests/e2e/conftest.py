"""End-to-end fixtures: the arm64 .spx built from this tree, installed with ``coreio_sim``.

One session builds (or reuses the cached) .spx, starts the robot simulator and the fake IP
camera in this process on ports chosen here, installs the extension into a temporary CORE I/O
tree with the simulator's payload credentials and an operator config pointing at both, and
starts it while the robot still refuses connections (the first scenario). Measured figures
are printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterator

import pytest
from e2e_deployment import (
    FIGURES,
    SOURCE_FPS,
    SOURCE_SIZE,
    Deployment,
    free_port,
    record,
)

from coreio_sim import docker_cli
from coreio_sim.errors import InstallError
from coreio_sim.installer import install, uninstall
from fake_cameras.ip_camera import FakeIPCamera
from robot_sim.simulator import RobotSimulator

#: The CORE I/O firewall admits 21000-22000; the service's default port first.
SERVICE_PORT_RANGE = (21000, 22000)


@pytest.fixture(scope="session")
def e2e_docker() -> None:
    """Skip with the reason when no Docker engine can be reached."""
    reason = docker_cli.engine_unavailable_reason()
    if reason:
        pytest.skip(f"no Docker engine: {reason}")


@pytest.fixture(scope="session")
def camera_spx(e2e_docker):
    """The arm64 .spx of the current tree (built once, then reused from the cache)."""
    from spx_tools.build import build_or_reuse
    from spx_tools.errors import PackagingError

    start = time.monotonic()
    try:
        spx = build_or_reuse(arch="arm64")
    except PackagingError as exc:
        pytest.fail(f"building the arm64 .spx failed: {exc}")
    record("build or reuse the arm64 .spx", time.monotonic() - start)
    return spx


@pytest.fixture(scope="module")  # torn down after the module: the emulated container eats CPU
def deployment(camera_spx, tmp_path_factory) -> Iterator[Deployment]:
    """The installed extension, started while the robot simulator refuses connections."""
    width, height = SOURCE_SIZE
    camera = FakeIPCamera(width=width, height=height, fps=SOURCE_FPS, port=free_port()).start()
    state = tmp_path_factory.mktemp("robot_sim")
    robot = RobotSimulator(state_dir=state, port=free_port()).start()
    robot.refuse_connections(3600)  # the robot is "not up yet" until a test says so
    root = tmp_path_factory.mktemp("coreio")
    start = time.monotonic()
    installed = install(camera_spx, root, credentials=robot.payload_credentials_file, start=False)
    record("install the .spx (unpack, docker load, override)", time.monotonic() - start)
    service_port = free_port(21230, *SERVICE_PORT_RANGE)
    settings_port = free_port(21231, service_port + 1, SERVICE_PORT_RANGE[1])
    deployment = Deployment(
        installed=installed,
        robot=robot,
        camera=camera,
        credentials=root / "opt" / "payload_credentials" / "payload_guid_and_secret",
        service_port=service_port,
        settings_port=settings_port,
    )
    deployment.write_config()
    deployment.compose_up()
    deployment.started_at = time.monotonic()
    try:
        yield deployment
    finally:
        with contextlib.suppress(InstallError):
            uninstall(installed.manifest.extension_name, root, keep_images=True)
        robot.stop()
        camera.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the figures measured by the end-to-end tests."""
    if not FIGURES:
        return
    terminalreporter.section("end-to-end figures (arm64 image under emulation)")
    for scenario, value, unit in FIGURES:
        terminalreporter.write_line(f"{value:8.2f} {unit:<8} {scenario}")
