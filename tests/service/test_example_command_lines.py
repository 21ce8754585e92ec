"""The test table: every command line quoted in the SDK example documents, run against the
robot simulator with the camera replaced by a video file or an HTTP MJPEG camera.

Each run is ``python -m camera_service`` with the line's arguments (the compose command and
the docker run lines: the arguments the container's entrypoint gets), placeholders filled
(``example_lines.fill``). Checked for each: it starts and registers under the example's
names (``web-cam-service``, authority ``robot-web-cam``), lists the source named as the
example names it, and returns that camera's frames THROUGH THE ROBOT with the SDK's
ImageClient (``build_image_request`` defaults: quality 75, the service's format - JPEG); a
port outside the CORE I/O firewall range is warned about in one line; the secret appears
nowhere; SIGTERM unregisters. Lines without a camera (the example then opens device 0) also
run as written: they register and list ``video0``, which answers a clean error status here
(no camera).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, ImageResponseError, build_image_request
from example_lines import (
    LINES,
    SDK2_DOCKER_GUID,
    SDK2_DOCKER_SECRET,
    TWO_CAMERA_LINES,
    ExampleLine,
    ExampleRun,
    fill,
)
from service_test_helpers import wait_for

from bench.processes import free_port
from fake_cameras.ip_camera import FakeIPCamera
from robot_sim import RobotSimulator

NAME, AUTHORITY = "web-cam-service", "robot-web-cam"
WAIT = 30.0
FRAME_LEVELS = (40, 90, 140, 190, 240)  # one grey level per frame of the test video


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with RobotSimulator(state_dir=tmp_path_factory.mktemp("robot_sim")) as simulator:
        simulator.add_payload(SDK2_DOCKER_GUID, SDK2_DOCKER_SECRET, authorized=True)
        yield simulator


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A short MJPG .avi whose frames are flat grey levels with a marker square."""
    path = tmp_path_factory.mktemp("videos") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for level in FRAME_LEVELS:
        frame = np.full((120, 160, 3), level, np.uint8)
        frame[10:30, 10:30] = 255 - level
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def ip_camera():
    with FakeIPCamera(width=160, height=120, fps=15, quality=75) as camera:
        yield camera


def _is_clip_frame(jpeg: bytes) -> bool:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.shape != (120, 160):
        return False
    level = float(np.median(image))
    nearest = min(FRAME_LEVELS, key=lambda known: abs(known - level))
    return abs(nearest - level) < 6 and abs(float(image[15:25, 15:25].mean()) -
                                             (255 - nearest)) < 12


def _is_ip_camera_frame(camera: FakeIPCamera, jpeg: bytes) -> bool:
    """The camera's own bytes, or a re-encoding of one of its recent frames."""
    if camera.sequence_of(jpeg) is not None:
        return True
    served = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    for sequence in range(max(1, camera.sequence - 100), camera.sequence + 1):
        sent = camera.jpeg_for(sequence)
        if sent is None:
            continue
        original = cv2.imdecode(np.frombuffer(sent, np.uint8), cv2.IMREAD_GRAYSCALE)
        if original.shape == served.shape and cv2.absdiff(original, served).mean() < 3:
            return True
    return False


def _camera(kind, clip, ip_camera):
    """(device value, expected source name, check of the served bytes)."""
    if kind == "file":
        return str(clip), "clip.avi", _is_clip_frame
    return ip_camera.url, "stream.mjpg", lambda jpeg: _is_ip_camera_frame(ip_camera, jpeg)


def _image_client(sim) -> ImageClient:
    robot = sim.sdk_robot()
    robot.sync_with_directory()
    return robot.ensure_client(NAME)


def _started_and_registered(sim, run: ExampleRun):
    entry = wait_for(lambda: _entry(sim, run), timeout=WAIT)
    assert entry.authority == f"{AUTHORITY}.spot.robot"
    assert entry.type == "bosdyn.api.ImageService"
    return entry


def _entry(sim, run: ExampleRun):
    assert run.alive(), f"the service exited:\n{run.log}"
    return next((e for e in sim.directory_entries() if e.name == NAME), None)


def _check_frames(client: ImageClient, source: str, is_that_camera) -> None:
    """Frames through the robot, as the SDK asks by default, are that camera's."""
    request = build_image_request(source)  # quality 75, full size, format: service's (JPEG)
    assert request.quality_percent == 75

    def served():
        try:
            (response,) = client.get_image([request])
        except ImageResponseError:  # e.g. ImageDataError while the camera is (re)opening
            return None
        return response if response.status == image_pb2.ImageResponse.STATUS_OK else None

    first = wait_for(served, timeout=WAIT)
    later = wait_for(lambda: (r := served()) and r.shot.acquisition_time.ToNanoseconds() >
                     first.shot.acquisition_time.ToNanoseconds() and r, timeout=WAIT)
    for response in (first, later):
        assert response.source.name == source
        assert response.shot.image.format == image_pb2.Image.FORMAT_JPEG
        assert is_that_camera(response.shot.image.data)


def _check_clean_exit(sim, run: ExampleRun, secret: str) -> None:
    assert run.stop() == 0, run.log
    assert all(e.name != NAME for e in sim.directory_entries())  # unregistered on SIGTERM
    assert secret not in run.log
    assert "Traceback" not in run.log
    warnings = [line for line in run.lines if "outside 21000-22000" in line]
    assert len(warnings) == 1 and "CORE I/O firewall" in warnings[0], run.log


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["file", "http"])
@pytest.mark.parametrize("line", LINES, ids=[line.id for line in LINES])
def test_example_line_serves_the_camera_through_the_robot(sim, clip, ip_camera, line: ExampleLine,
                                                          kind):
    device, source, is_that_camera = _camera(kind, clip, ip_camera)
    argv = fill(line, sim, free_port(), device)
    with ExampleRun(sim, argv) as run:
        _started_and_registered(sim, run)
        client = _image_client(sim)
        assert [s.name for s in client.list_image_sources()] == [source]
        _check_frames(client, source, is_that_camera)
    _check_clean_exit(sim, run, sim.payload_credentials_file.read_text().split()[1])


@pytest.mark.slow
@pytest.mark.parametrize("line", TWO_CAMERA_LINES, ids=[line.id for line in TWO_CAMERA_LINES])
def test_two_camera_lines_serve_both(sim, clip, ip_camera, line: ExampleLine):
    argv = fill(line, sim, free_port(), None, cameras=[str(clip), ip_camera.url])
    with ExampleRun(sim, argv) as run:
        _started_and_registered(sim, run)
        client = _image_client(sim)
        assert [s.name for s in client.list_image_sources()] == ["clip.avi", "stream.mjpg"]
        for kind in ("file", "http"):
            _, source, is_that_camera = _camera(kind, clip, ip_camera)
            _check_frames(client, source, is_that_camera)
    _check_clean_exit(sim, run, sim.payload_credentials_file.read_text().split()[1])


@pytest.mark.slow
@pytest.mark.parametrize("line", [line for line in LINES if not line.has_camera],
                         ids=[line.id for line in LINES if not line.has_camera])
def test_line_without_a_camera_registers_video0_as_written(sim, line: ExampleLine):
    argv = fill(line, sim, free_port(), None)
    with ExampleRun(sim, argv) as run:
        _started_and_registered(sim, run)
        client = _image_client(sim)
        assert [s.name for s in client.list_image_sources()] == ["video0"]
        stub_reply = client.get_image_async([build_image_request("video0")]).exception()
        assert stub_reply is not None  # no camera on this machine: a clean error status
        assert "Traceback" not in run.log and run.alive()
    _check_clean_exit(sim, run, sim.payload_credentials_file.read_text().split()[1])


@pytest.mark.slow
def test_a_stream_url_is_read_through_ffmpeg(sim, clip):
    """``rtsp://`` and other stream URLs go to FFmpeg: here a ``file://`` URL, which FFmpeg
    reads like a stream (no RTSP server exists on this machine)."""
    (line,) = [line for line in LINES if line.id == "sdk5-payload"]
    with ExampleRun(sim, fill(line, sim, free_port(), f"file://{clip}")) as run:
        _started_and_registered(sim, run)
        client = _image_client(sim)
        assert [s.name for s in client.list_image_sources()] == ["clip.avi"]
        _check_frames(client, "clip.avi", _is_clip_frame)
        assert any("FFmpeg 160x120" in x for x in run.lines), run.log
    _check_clean_exit(sim, run, sim.payload_credentials_file.read_text().split()[1])
