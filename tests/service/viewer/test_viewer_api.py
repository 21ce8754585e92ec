"""The viewer's HTTP API against the real stack: simulator, camera service, viewer."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from camera_service.web.http_server import host_allowed
from viewer_stack import SERVICE

from devtools import polling

pytestmark = pytest.mark.slow


def frame_path(source: str, quality: int = 75, resize: float = 1.0, service: str = SERVICE):
    return f"/api/frame?service={service}&source={source}&quality={quality}&resize={resize}"


def decode(body: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable JPEG"
    return image


def wait_for(check, timeout: float = 20.0):
    """The project's polling helper, at a pace an HTTP endpoint can take."""
    return polling.wait_for(check, timeout=timeout, interval=0.2)


def test_sources_lists_every_source_of_the_image_service(stack):
    reply = stack.get("/api/sources")
    assert reply.status == 200
    services = {service["name"]: service for service in reply.json()["services"]}
    assert SERVICE in services
    service = services[SERVICE]
    assert service["error"] == ""
    assert service["authority"].startswith("camera-image-service")
    sources = {source["name"]: source for source in service["sources"]}
    assert set(sources) == {"front", "raw", "broken"}
    assert (sources["front"]["cols"], sources["front"]["rows"]) == (640, 480)
    assert "FORMAT_JPEG" in sources["raw"]["formats"]


def test_frame_is_a_jpeg_with_timing_headers(stack):
    reply = stack.get(frame_path("front"))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/jpeg"
    assert decode(reply.body).shape == (480, 640, 3)
    assert (reply.headers["X-Frame-Cols"], reply.headers["X-Frame-Rows"]) == ("640", "480")
    assert float(reply.headers["X-Rpc-Ms"]) > 0


def test_image_age_uses_robot_time_sync(stack):
    # The simulator's clock runs seconds ahead: a small positive age shows the robot-time
    # acquisition stamp was converted back with time sync. The service stamps local time
    # until its own time sync is established (shortly after registering), so allow for that.
    def age_ms():
        return float(stack.get(frame_path("front")).headers["X-Image-Age-Ms"])

    assert wait_for(lambda: -50 < age_ms() < 1500, timeout=15), age_ms()
    reply = stack.get(frame_path("front"))
    assert abs(float(reply.headers["X-Acquisition-Time"]) - time.time()) < 2


def test_frames_change_over_time(stack):
    first = stack.get(frame_path("front")).body
    time.sleep(0.3)
    second = stack.get(frame_path("front")).body
    assert first != second


def test_resize_and_quality_reach_the_service(stack):
    half = stack.get(frame_path("raw", resize=0.5))
    assert half.status == 200
    assert decode(half.body).shape == (120, 160, 3)
    # "raw" is encoded by the service (a full-size JPEG camera's bytes pass through whatever
    # the quality: jpeg_passthrough auto)
    low = stack.get(frame_path("raw", quality=5)).body
    high = stack.get(frame_path("raw", quality=95)).body
    assert len(low) < len(high) / 2


def test_faulted_source_answers_with_its_reason(stack):
    def faulted():
        reply = stack.get(frame_path("broken"))
        return reply if reply.status != 200 else None

    reply = wait_for(faulted)
    assert reply, "the broken source kept delivering"
    assert reply.status == 502
    body = reply.json()
    assert body["error"] == "source_fault"
    assert body["status"] == "STATUS_IMAGE_DATA_ERROR"
    assert body["message"].startswith("broken: image data error - ")
    assert "broken" in body["message"].split(" - ", 1)[1]


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        (frame_path("front", service="no-such-service"), 404, "unknown_service"),
        (frame_path("no-such-source"), 502, "source_fault"),
        (frame_path("front", quality=0), 400, "bad_request"),
        (frame_path("front", resize=1.5), 400, "bad_request"),
        ("/api/frame?service=x", 400, "bad_request"),
        ("/api/nothing", 404, "not_found"),
        ("/static/..%2F__init__.py", 404, "not_found"),
    ],
)
def test_bad_requests_get_one_line_json_errors(stack, path, status, kind):
    reply = stack.get(path)
    assert reply.status == status
    body = reply.json()
    assert body["error"] == kind
    assert body["message"] and "\n" not in body["message"]


def test_page_and_static_files_are_served(stack):
    page = stack.get("/")
    assert page.status == 200
    assert b"/static/app.js" in page.body
    script = stack.get("/static/app.js")
    assert script.status == 200
    assert script.headers["Content-Type"].startswith("text/javascript")


def test_status_never_shows_the_password(stack):
    reply = stack.get("/api/status")
    status = reply.json()
    assert status["connected"] is True
    assert status["login"] == f"user {stack.sim.username!r}"
    assert stack.sim.password not in reply.body.decode()


def test_robot_gone_then_back(stack):
    stack.sim.refuse_connections(3)
    reply = wait_for(lambda: (lambda r: r if r.status == 503 else None)(
        stack.get(frame_path("front"))), timeout=10)
    assert reply, "the viewer kept answering while the robot was gone"
    body = reply.json()
    assert body["error"] == "robot_unreachable"
    assert body["message"].startswith(f"robot unreachable at {stack.sim.address}:{stack.sim.port}")
    status = stack.get("/api/status").json()
    assert status["connected"] is False
    assert status["message"] == body["message"]
    # Back: the viewer logs in again by itself.
    assert wait_for(lambda: stack.get(frame_path("front")).status == 200, timeout=20)
    assert stack.get("/api/status").json()["connected"] is True


def test_reboot_with_new_tokens_logs_in_again(stack):
    stack.sim.reboot(down_seconds=1.0, invalidate_tokens=True)
    # After the reboot the service re-registers (keep-alive) and the viewer logs in anew.
    assert wait_for(lambda: stack.get(frame_path("front")).status == 200, timeout=40)


@pytest.mark.parametrize(
    ("listen", "host", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1:8080", True),
        ("127.0.0.1", "localhost:8080", True),
        ("127.0.0.1", "[::1]:8080", True),
        ("127.0.0.1", "rebound.example:8080", False),
        ("127.0.0.1", "", False),
        ("0.0.0.0", "viewer-laptop.local:8080", True),
    ],
)
def test_host_allowed_blocks_dns_rebinding_on_loopback(listen, host, allowed):
    assert host_allowed(listen, host) is allowed


def test_request_under_a_foreign_name_is_refused(stack):
    port = stack.viewer.server_address[1]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/sources",
                                     headers={"Host": f"rebound.example:{port}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 403
    assert json.loads(caught.value.read())["error"] == "forbidden"
