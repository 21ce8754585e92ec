"""The SDK's own command line (``python3 -m bosdyn.client ROBOT ...``) against the service
registered with the robot simulator, the way an integrator first checks a payload: list the
sources, get an image (the SDK's default request: JPEG 75), list the Data Acquisition
capabilities (the clips plugin's included) and acquire a still through the robot."""

from __future__ import annotations

import cv2
import numpy as np
from service_test_helpers import SERVICE_NAME, sdk_cli, service_config

from devtools.polling import wait_for

SOURCES = [
    {"name": "front", "type": "synthetic", "width": 320, "height": 240, "fps": 10},
    {"name": "back", "type": "synthetic", "width": 160, "height": 120, "fps": 10,
     "native_jpeg": False, "clips": {"enabled": True, "pre_roll_s": 0}},
]


def _started(robot_sim, run_service):
    service = run_service(service_config(robot_sim, SOURCES))
    wait_for(lambda: service.link.connected and service.clock.established, timeout=30)
    return service


def test_image_commands_list_and_get_through_the_robot(robot_sim, run_service, tmp_path):
    _started(robot_sim, run_service)
    out = tmp_path / "cli"
    out.mkdir()
    listed = sdk_cli(robot_sim, "image", "list-sources", "--service-name", SERVICE_NAME)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "front" in listed.stdout and "back" in listed.stdout
    got = wait_for(lambda: (lambda r: r if r.returncode == 0 and list(out.iterdir())
                            else None)(sdk_cli(robot_sim, "image", "get-image", "--service-name",
                                               SERVICE_NAME, "front", "back", cwd=out)),
                   timeout=30, what="get-image writing its files")
    assert got.returncode == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["image-back.jpg", "image-front.jpg"], files
    for path, size in zip(files, [(120, 160), (240, 320)]):
        image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[:2] == size, path


def test_unknown_source_is_answered_with_the_list(robot_sim, run_service, tmp_path):
    _started(robot_sim, run_service)
    answer = sdk_cli(robot_sim, "image", "get-image", "--service-name", SERVICE_NAME, "nope",
                     cwd=tmp_path)
    assert "does not exist" in answer.stdout and "front" in answer.stdout
    assert not list(tmp_path.glob("image-*"))


def test_data_acquisition_commands_see_and_capture_the_sources(robot_sim, run_service):
    _started(robot_sim, run_service)
    capabilities = wait_for(lambda: (lambda r: r.stdout if "back-clip" in r.stdout else None)(
        sdk_cli(robot_sim, "acquire", "info")), timeout=30,
        what="the clip capability listed by the SDK's command line")
    assert "front" in capabilities and SERVICE_NAME in capabilities
    request = sdk_cli(robot_sim, "acquire", "request", "--image-source", "front",
                      "--image-service", SERVICE_NAME, "--action-name", "cli-still")
    assert request.returncode == 0, request.stdout + request.stderr
    assert "STATUS_COMPLETE" in request.stdout, request.stdout
