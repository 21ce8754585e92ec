"""The extension installed in the VM the way the portal does, then the VM rebooted.

The .spx is the amd64 build of the same Dockerfile (fast to build here; the arm64 image is
covered by the host end-to-end tests). Inside the VM, ``coreio_sim install --root /`` puts it
where a CORE I/O does (``/data/.extensions/<name>/``, udev rules in ``/etc/udev/rules.d``,
images loaded into the VM's Docker engine); the harness then triggers udev as the portal does.
The operator config names the camera by the stable name the extension's udev rules create.
After the VM reboots, the container must be running and registered again with no manual step.
Then the operator config switches vivid to its 16-bit greyscale formats (``Y16`` and
``Y16_BE``): the container must serve them as ``PIXEL_FORMAT_GREYSCALE_U16`` in the Spot
API's byte order (big-endian), whatever the camera's own order. Last, an MJPEG camera through
the kernel (a v4l2loopback node fed like a UVC camera, see ``loopback_support``): served
byte-identical by the container, then its device deleted and created again under another
node number: faulted, then reopened through its stable name without a container restart.

Tests run in file order against one installation (module fixture).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator, List, Optional

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import build_image_request, pixel_format_to_numpy_type
from loopback_support import (
    SERVED_MIX,
    LoopbackCameras,
    collect,
    expected_served,
    frame_rates,
    stable_name,
)
from vm_support import (
    COUNTERS_LINE,
    fault_names,
    free_service_port,
    image_client,
    jpeg_frames,
    new_counters,
    note,
    process_cpu_seconds,
    record,
    robot_section,
    write_guest_yaml,
)

from devtools.polling import wait_for
from fake_cameras import uvc_frames
from vm.machine import GUEST_PYTHON, GUEST_PYTHON_ENV, Machine

pytestmark = [pytest.mark.vm, pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1800)]

EXTENSION = "spot_camera_service"
EXTENSION_DIR = f"/data/.extensions/{EXTENSION}"
SERVICE_NAME = "camera-image-service"
SOURCE_NAME = "front"
#: What the extension's udev rules name vivid's capture node (vivid is a platform device:
#: no serial, so only the by-port name).
STABLE_NAME = "/dev/spot-cameras/by-port/platform-vivid.0"
BOOT_TO_REGISTERED_TIMEOUT = 420.0


def _guest_python(machine: Machine, code: str, timeout: float = 600.0) -> str:
    env = " ".join(f"{key}={value}" for key, value in GUEST_PYTHON_ENV.items())
    quoted = code.replace("'", "'\"'\"'")
    return machine.run(f"env {env} {GUEST_PYTHON} -c '{quoted}'", timeout=timeout).stdout


class InstalledExtension:
    """The extension installed in the guest, with an operator config for the simulator."""

    def __init__(self, machine: Machine, robot, spx: Path, port: int) -> None:
        self.machine = machine
        self.robot = robot
        self.spx = spx
        self.port = port

    def install(self) -> float:
        """Install like the portal (unpack, docker load, udev rules + trigger), no start."""
        spx = self.machine.share(self.spx)
        credentials = self.machine.share(Path(self.robot.payload_credentials_file),
                                         "payload_guid_and_secret")
        env = " ".join(f"{key}={value}" for key, value in GUEST_PYTHON_ENV.items())
        started = time.monotonic()
        self.machine.run(f"env {env} {GUEST_PYTHON} -m coreio_sim install {spx} --root / "
                         f"--credentials {credentials} --no-start", timeout=900)
        self.machine.run("udevadm control --reload && udevadm trigger --action=add "
                         "--subsystem-match=video4linux && udevadm settle")
        return time.monotonic() - started

    def configure(self, sources: Optional[List[dict]] = None, **source_options) -> None:
        """The operator config: the simulator via 10.0.2.2, the camera by its stable name
        (``source_options``: more keys of the source, e.g. ``format``), or ``sources``."""
        config_dir = f"{EXTENSION_DIR}/config"
        ca = self.machine.share(Path(self.robot.ca_cert), "robot-ca.pem")
        config = write_guest_yaml(self.machine, "extension-config.yaml", {
            "robot": robot_section(self.robot, "/config/robot-ca.pem"),
            "service": {"port": self.port, "name": SERVICE_NAME},
            "log_level": "info",
            "sources": sources or [{"name": SOURCE_NAME, "type": "v4l2", "device": STABLE_NAME,
                                    "width": 640, "height": 480, "fps": 10,
                                    **source_options}],
        })
        self.machine.run(f"install -m 0644 {ca} {config_dir}/robot-ca.pem && "
                         f"install -m 0644 {config} {config_dir}/config.yaml")

    def start(self) -> None:
        """``compose up -d`` with the installed compose files, as the portal starts it."""
        _guest_python(self.machine, (
            "from coreio_sim import docker_cli; from coreio_sim.installer import list_installed; "
            "ext = list_installed('/')[0]; "
            "docker_cli.compose(ext.project, ext.compose_files, ['up', '-d'], 'start')"))

    def restart(self) -> None:
        """Restart the container, as the portal's restart does after a config edit."""
        self.machine.run("docker restart -t 10 $(docker ps -aq --filter "
                         f"label=com.docker.compose.project={EXTENSION})", timeout=120)

    def container(self) -> dict:
        ids = self.machine.run("docker ps -aq --filter "
                               f"label=com.docker.compose.project={EXTENSION}").stdout.split()
        assert len(ids) == 1, f"expected one container of {EXTENSION}, found {ids}"
        return json.loads(self.machine.run(f"docker inspect {ids[0]}").stdout)[0]

    def wait_registered(self, timeout: float) -> None:
        """Wait for the service in the robot's directory; fail with the container's state."""
        try:
            self.robot.wait_for_service(SERVICE_NAME, timeout=timeout)
        except TimeoutError:
            state = self.container()["State"]
            pytest.fail(f"not registered after {timeout:g} s; container state "
                        f"{state['Status']!r} {state.get('Error', '')}\n{self.logs()[-2000:]}")

    def counters(self, around: str = "{signal}") -> dict:
        """The container's pipeline counters (SIGUSR1 makes the service log them);
        ``around``: the guest command sending it, ``{signal}`` standing for the kill."""
        before = self.logs().count(COUNTERS_LINE)
        signal = f"docker kill --signal USR1 {self.container()['Id']}"
        self.machine.run(around.format(signal=signal))
        return wait_for(lambda: new_counters(self.logs(), before), 30,
                          "the counters of the extension's service", interval=0.5)

    def cpu_seconds(self) -> float:
        """CPU seconds the container's service process has used (its pid in the guest)."""
        return process_cpu_seconds(self.machine, str(self.container()["State"]["Pid"]))

    def logs(self) -> str:
        result = self.machine.run(
            f"docker logs $(docker ps -aq --filter label=com.docker.compose.project={EXTENSION})",
            check=False)
        text = result.stdout + result.stderr
        (self.machine.run_dir / "extension-container.log").write_text(text)
        return text


@pytest.fixture(scope="module")
def amd64_spx() -> Path:
    """The amd64 .spx of this tree (spx_tools' cache makes a second call instant)."""
    from coreio_sim import docker_cli

    reason = docker_cli.engine_unavailable_reason()
    if reason:
        pytest.skip(f"building the amd64 .spx needs a Docker engine on the host: {reason}")
    from spx_tools.build import build_or_reuse
    from spx_tools.errors import PackagingError

    started = time.monotonic()
    try:
        spx = build_or_reuse(arch="amd64")
    except PackagingError as error:
        pytest.fail(f"building the amd64 .spx failed: {error}")
    record("amd64 .spx: build (cold) or cache lookup (warm)", time.monotonic() - started)
    return spx


@pytest.fixture(scope="module")
def extension(vm, vm_robot, amd64_spx) -> Iterator[InstalledExtension]:
    port = vm.forward(free_service_port())
    installed = InstalledExtension(vm, vm_robot, amd64_spx, port)
    record("install the .spx in the VM (unpack, docker load, udev)", installed.install())
    installed.configure()
    try:
        yield installed
    finally:
        installed.logs()


def test_udev_rules_are_installed_and_name_the_capture_node(extension, vm):
    rules = vm.run("ls /etc/udev/rules.d/").stdout.split()
    assert "70-spot-camera-service.rules" in rules, rules
    target = vm.run(f"readlink -f {STABLE_NAME}", check=False).stdout.strip()
    assert target == "/dev/video0", f"{STABLE_NAME} -> {target!r}"
    every_link = vm.run("find /dev/spot-cameras -type l -exec readlink -f {} +").stdout.split()
    assert "/dev/video1" not in every_link, "the metadata node got a camera name"
    assert vm.run("stat -c %G:%a /dev/video0").stdout.strip() == "video:660"


def test_container_starts_with_the_camera_and_registers(extension, vm_robot):
    started = time.monotonic()
    extension.start()
    extension.wait_registered(BOOT_TO_REGISTERED_TIMEOUT)
    record("extension: compose up -> registered", time.monotonic() - started)
    client = image_client(vm_robot, SERVICE_NAME)
    assert [source.name for source in client.list_image_sources()] == [SOURCE_NAME]
    distinct, image = jpeg_frames(client, SOURCE_NAME, 3.0)
    assert distinct >= 2, extension.logs()[-2000:]
    assert (image.shape[1], image.shape[0]) == (640, 480)
    info = extension.container()
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert info["Config"]["User"] == "1000:1000"


def test_reboot_brings_the_extension_back_registered(extension, vm, vm_robot):
    before = extension.container()["State"]["StartedAt"]
    started = time.monotonic()
    record("VM reboot to ssh", vm.reboot())
    extension.wait_registered(BOOT_TO_REGISTERED_TIMEOUT)
    client = image_client(vm_robot, SERVICE_NAME)
    wait_for(lambda: _serves_frames(client), BOOT_TO_REGISTERED_TIMEOUT,
               "frames from the extension after the reboot")
    record("VM reboot -> extension registered and serving frames", time.monotonic() - started)
    state = extension.container()["State"]
    assert state["Running"], state
    assert state["StartedAt"] != before, "the container was not started again after the reboot"


def _serves_frames(client) -> bool:
    try:
        distinct, _ = jpeg_frames(client, SOURCE_NAME, 1.0)
    except Exception:  # not yet: the route or the camera is still coming up
        return False
    return distinct >= 1


def _raw_grey16(client) -> Optional[image_pb2.ImageResponse]:
    """One RAW GREYSCALE_U16 response, or None while the restarted service is not there."""
    request = build_image_request(SOURCE_NAME, image_format=image_pb2.Image.FORMAT_RAW,
                                  pixel_format=image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U16)
    try:
        return client.get_image([request], timeout=10)[0]
    except Exception:  # not yet: restarting, re-registering, or still the 8-bit config
        return None


@pytest.mark.parametrize("fourcc", ["Y16", "Y16_BE"])
def test_vivid_16_bit_grey_is_served_as_greyscale_u16_big_endian(extension, vm_robot, fourcc):
    """vivid's 16-bit grey holds each 8-bit luma in the high byte (low byte 0, white 0xFFFF):
    decoded as the SDK decodes GREYSCALE_U16 (big-endian), every value is a multiple of 256
    or 0xFFFF; the wrong byte order would give values below 256 instead."""
    extension.configure(format=fourcc)
    started = time.monotonic()
    extension.restart()
    extension.wait_registered(BOOT_TO_REGISTERED_TIMEOUT)
    client = image_client(vm_robot, SERVICE_NAME)
    response = wait_for(lambda: _raw_grey16(client), BOOT_TO_REGISTERED_TIMEOUT,
                          f"a GREYSCALE_U16 frame from vivid in {fourcc}")
    record(f"extension restart with format {fourcc} -> first GREYSCALE_U16 frame",
           time.monotonic() - started)
    image = response.shot.image
    assert (image.format, image.pixel_format, image.cols, image.rows) == (
        image_pb2.Image.FORMAT_RAW, image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U16, 640, 480)
    assert response.source.pixel_formats[0] == image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U16
    values = np.frombuffer(image.data, pixel_format_to_numpy_type(image.pixel_format))
    assert values.size == 640 * 480
    high_byte_only = ((values & 0xFF) == 0) | (values == 0xFFFF)
    assert high_byte_only.all(), f"{int((~high_byte_only).sum())} values have a low byte"
    assert values.max() > 255 and np.unique(values).size >= 4, np.unique(values)[:16]
    granted = [line for line in extension.logs().splitlines() if "16-bit values" in line]
    assert granted and f"{fourcc} 640x480" in granted[-1], granted
    note(f"vivid {fourcc}: granted", granted[-1].split(": ", 1)[-1][:120])
    distinct, view = jpeg_frames(client, SOURCE_NAME, 2.0)  # the tablet's JPEG view
    assert distinct >= 1 and (view.shape[1], view.shape[0]) == (640, 480)


LOOP = "loop-mjpeg-a"
LOOP_SOURCE = "loop-a"


def _loop_faulted(robot) -> bool:
    return any(f"camera {LOOP_SOURCE} " in name for name in fault_names(robot))


def test_loopback_mjpeg_camera_in_the_container_passthrough_and_replug(extension, vm,
                                                                       vm_robot):
    stream = uvc_frames.camera_stream(1280, 720, 30, SERVED_MIX * 8)
    cameras = LoopbackCameras(vm, (LOOP,))
    cameras.load(first_node=10)
    try:
        cameras.start_feeder(LOOP, stream)
        extension.configure(sources=[{"name": LOOP_SOURCE, "type": "v4l2",
                                      "device": stable_name(LOOP), "width": 1280,
                                      "height": 720, "fps": 30}])
        extension.restart()
        extension.wait_registered(BOOT_TO_REGISTERED_TIMEOUT)
        client = image_client(vm_robot, SERVICE_NAME)
        wait_for(lambda: _serves(client, LOOP_SOURCE), BOOT_TO_REGISTERED_TIMEOUT,
                   "frames from the loopback camera in the container", interval=0.5)
        started_at = extension.container()["State"]["StartedAt"]
        served = collect(client, LOOP_SOURCE, expected_served(stream), window=8.0)
        stored, written = frame_rates(extension, cameras, {LOOP: LOOP_SOURCE}, 5.0)[LOOP]
        note("container, loopback 720p30 MJPEG: GetImage (SDK default request) "
             "byte-identical to the feeder's frame (normalized)",
             f"{served.identical_percent:.1f}% of {served.responses}")
        note("container, loopback: frames/s stored by the service vs written by the feeder",
             f"{stored:.1f} vs {written:.1f}")
        assert served.identical == served.responses >= 5
        assert extension.counters()["frame_hygiene"][LOOP_SOURCE]["dropped"] == {}

        cameras.stop_feeders((LOOP,))  # unplugged: the camera stops, then its device goes
        started = time.monotonic()
        wait_for(lambda: _loop_faulted(vm_robot), 60, "a fault for the loopback camera")
        record("container, loopback unplug -> robot fault raised", time.monotonic() - started)
        cameras.unload()
        started = time.monotonic()
        cameras.load(first_node=20)
        cameras.start_feeder(LOOP)
        wait_for(lambda: not _loop_faulted(vm_robot), 90, "the loopback fault to clear")
        record("container, loopback replug -> fault cleared", time.monotonic() - started)
        again = collect(client, LOOP_SOURCE, expected_served(stream), window=2.0)
        assert again.identical == again.responses > 0
        assert cameras.node(LOOP).startswith("/dev/video2")
        assert extension.container()["State"]["StartedAt"] == started_at, "restarted"
    finally:
        cameras.stop_all()
        extension.logs()


def _serves(client, source) -> bool:
    try:
        response = client.get_image_from_sources([source])[0]
        return response.status == image_pb2.ImageResponse.STATUS_OK
    except Exception:  # not yet: restarting, re-registering
        return False
