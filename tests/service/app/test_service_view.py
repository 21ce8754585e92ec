"""What the page reads from a running service: the cameras present (configured or not, with
their capture formats and stable names), each source's status and a preview frame served
in-process."""

from __future__ import annotations

import pytest
from camera_service.app.service import CameraService
from camera_service.app.settings_backend import ServiceView
from camera_service.web.errors import UnknownService
from service_test_helpers import SERVICE_NAME, service_config, wait_for

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World


@pytest.fixture
def view(robot_sim, tmp_path):
    world = FakeV4L2World(str(tmp_path))
    used = world.plug(FakeCamera(serial="USED1", usb_port="1", paced=True))
    world.plug(FakeCamera(model="Brio", serial="FREE2", usb_port="2"))
    # configured by its by-id name, as the README advises
    by_id = next(p for p in world.tree().nodes()[0].stable_paths if "/by-id/" in p)
    source = world.source(used, "front", fps=30, device=by_id)
    service = CameraService(service_config(robot_sim, []), sources=[source])
    service.start()
    try:
        robot_sim.wait_for_service(SERVICE_NAME, timeout=15)
        wait_for(lambda: service.store.latest("front"))
        yield ServiceView(service, tree=world.tree(),
                          device_factory=world.control_device_factory)
    finally:
        service.stop()


def test_cameras_present_include_the_unconfigured_one(view):
    cameras = view.cameras()
    capture = [c for c in cameras["present"] if c["captures"]]
    assert len(capture) == 2 and len(cameras["present"]) == 4  # + two metadata nodes
    used, free = capture
    assert used["source"] == "front"
    assert free["source"] is None
    assert "FREE2" in free["device"] and free["suggested_name"]
    formats = {f["fourcc"]: f["sizes"] for f in free["formats"]}
    assert set(formats) == {"MJPG", "YUYV"}
    # the fake camera's modes, through VIDIOC_ENUM_FRAMESIZES / VIDIOC_ENUM_FRAMEINTERVALS
    assert [(s["kind"], s["width"], s["height"], [r["fps"] for r in s["rates"]])
            for s in formats["YUYV"]] == [("discrete", 640, 480, [30.0]),
                                          ("discrete", 1280, 720, [10.0]),
                                          ("discrete", 1920, 1080, [5.0])]
    # controls of the camera no source uses yet, read from the device (VIDIOC_QUERYCTRL)
    assert {c["name"] for c in free["controls"]} >= {"brightness"}
    assert [c["formats"] for c in cameras["present"] if not c["captures"]] == [[], []]
    assert {c["name"] for c in cameras["controls"]["front"]} >= {"brightness"}


def test_device_queries_are_reused_briefly(view, monkeypatch):
    from camera_service.app import settings_backend as service_view
    opened = []
    factory = view._device_factory
    view._device_factory = lambda node: opened.append(node) or factory(node)
    view.cameras()
    view.cameras()
    assert len(opened) == 2  # each capture node asked once for both lists
    monkeypatch.setattr(service_view, "QUERY_SECONDS", 0.0)
    view.cameras()
    assert len(opened) == 4


def test_status_and_preview(view):
    wait_for(lambda: view.status()["robot"]["registered"])
    status = view.status()
    assert status["robot"]["authenticated"] and status["robot"]["time_sync"]
    [front] = status["sources"]
    assert front["state"] == "streaming" and front["fault"] is None
    assert front["granted"]["camera_fps"] == 30
    assert front["granted"]["format"] == "JPEG from the camera"
    # the rate counted from the frames delivered settles at the camera's 30 (the frames
    # the driver had queued arrive at once at the start)
    wait_for(lambda: 15 < (view.status()["sources"][0]["fps"] or 0) < 45, timeout=15)
    frame = view.frame("front", 75, 0.5)
    assert frame.jpeg[:2] == b"\xff\xd8"
    assert (frame.cols, frame.rows) == (front["granted"]["width"] // 2,
                                        front["granted"]["height"] // 2)
    with pytest.raises(UnknownService):
        view.frame("nope", 75, 1)


def test_a_faulted_url_source_shows_its_reason_and_no_made_up_size(robot_sim):
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = service_config(robot_sim, [{"name": "ip", "type": "url", "timeout": 1,
                                         "url": f"http://127.0.0.1:{port}/video.mjpg"}])
    service = CameraService(config)
    service.start()
    try:
        view = ServiceView(service)
        [ip] = wait_for(lambda: [s for s in view.status()["sources"]
                                 if s["state"] == "faulted"])
        assert "ip" in ip["fault"] and ip["granted"] is None and ip["fps"] is None
    finally:
        service.stop()
