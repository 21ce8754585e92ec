"""The SDK example's container lines run in Docker: the example's compose ``command:`` and its
docker run line, given unchanged to this extension's image (the container's entrypoint is
``python -m camera_service``), against the robot simulator on the host network.

Only the addresses, the port, the credentials and the camera are filled in (as in
``tests/service/test_example_command_lines.py``, which runs the same lines natively); the
camera is the HTTP MJPEG fake camera. The SDK inside the container is pointed at the
simulator the way ``python -m robot_sim exec`` does it (``robot_sim/sdk_redirect`` on
``PYTHONPATH`` with the simulator's CA and port), so the command stays the example's. The
image is the amd64 development build of this tree (native, no emulation). Marked ``docker``;
run it under ``flock /tmp/heavy.lock``.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import build_image_request
from example_lines import LINES, REPO, fill

from bench.processes import free_port
from coreio_sim import docker_cli
from fake_cameras.ip_camera import FakeIPCamera
from robot_sim.simulator import RobotSimulator

pytestmark = pytest.mark.docker
NAME, AUTHORITY = "web-cam-service", "robot-web-cam"
CREDENTIALS_IN_CONTAINER = "/opt/payload_credentials/payload_guid_and_secret"
WAIT = 90.0


@pytest.fixture(scope="module")
def image():
    reason = docker_cli.engine_unavailable_reason()
    if reason:
        pytest.skip(f"no Docker engine: {reason}")
    from spx_tools.build import build_or_reuse, load_image
    from spx_tools.errors import PackagingError

    try:
        return load_image(build_or_reuse(arch="amd64"))
    except PackagingError as exc:
        pytest.fail(f"building the amd64 .spx failed: {exc}")


@pytest.fixture
def sim(tmp_path):
    with RobotSimulator(state_dir=tmp_path / "robot_sim") as simulator:
        yield simulator


def _container_args(sim, tmp_path: Path) -> list:
    """``docker run`` options: host network, the image's own user, the credentials mounted
    where the CORE I/O mounts them, and the SDK pointed at the simulator."""
    shared = tmp_path / "shared"
    shared.mkdir()
    credentials = shared / "payload_guid_and_secret"
    shutil.copy(sim.payload_credentials_file, credentials)
    shutil.copy(sim.ca_cert, shared / "ca.pem")
    for path in (credentials, shared / "ca.pem"):
        path.chmod(0o644)  # readable by the container's uid 1000
    redirect = REPO / "robot_sim" / "sdk_redirect"
    return ["--network", "host", "--read-only", "--tmpfs", "/tmp",
            "-v", f"{credentials}:{CREDENTIALS_IN_CONTAINER}:ro",
            "-v", f"{shared / 'ca.pem'}:/robot/ca.pem:ro",
            "-v", f"{redirect}:/opt/sdk_redirect:ro",
            "-e", "PYTHONPATH=/opt/sdk_redirect", "-e", "ROBOT_SIM_CA_CERT=/robot/ca.pem",
            "-e", f"ROBOT_SIM_PORT={sim.port}"]


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("line_id", ["sdk5-compose", "sdk5-docker-run"])
def test_example_container_line_serves_through_the_robot(image, sim, tmp_path, line_id):
    (line,) = [line for line in LINES if line.id == line_id]
    with FakeIPCamera(width=160, height=120, fps=15, quality=75) as camera:
        argv = fill(line, sim, free_port(), camera.url)
        if "--payload-credentials-file" in argv:  # the path the CORE I/O mounts
            argv[argv.index("--payload-credentials-file") + 1] = CREDENTIALS_IN_CONTAINER
        name = f"example-line-{uuid.uuid4().hex[:8]}"
        started = _docker("run", "-d", "--name", name, *_container_args(sim, tmp_path), image,
                          *argv)
        assert started.returncode == 0, started.stderr
        try:
            entry = sim.wait_for_service(NAME, timeout=WAIT)
            assert entry.authority == f"{AUTHORITY}.spot.robot"
            robot = sim.sdk_robot()
            robot.sync_with_directory()
            client = robot.ensure_client(NAME)
            assert [s.name for s in client.list_image_sources()] == ["stream.mjpg"]
            (response,) = client.get_image([build_image_request("stream.mjpg")])
            assert response.status == image_pb2.ImageResponse.STATUS_OK
            assert response.shot.image.format == image_pb2.Image.FORMAT_JPEG
            assert (response.shot.image.cols, response.shot.image.rows) == (160, 120)
        finally:
            _docker("stop", "-t", "10", name, timeout=30)
            logs = _docker("logs", name).stderr
            _docker("rm", "-f", name)
    secret = sim.payload_credentials_file.read_text().split()[1]
    assert secret not in logs and "Traceback" not in logs
    assert "outside 21000-22000" in logs  # the example's port 50051 (here a free one) warned
    assert all(e.name != NAME for e in sim.directory_entries())  # docker stop unregisters
