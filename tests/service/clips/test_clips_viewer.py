"""The laptop viewer lists, downloads and plays the clips recorded through the robot simulator.

One module-wide recording: the whole service with a 30 fps MJPEG camera (``front``) and a
16-bit thermal camera (``thermal``) as clip sources, one ``AcquireData`` as Autowalk sends it
for both clips; then the viewer is started against the same simulator. What the viewer
serves is compared with what the robot's own Data Acquisition download (the SDK's
``download_data_REST``) holds.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Dict, Iterator, List

import pytest
from bosdyn.api import data_acquisition_pb2 as daq
from browser_page import PIXELS_JS, save_screenshot, wait
from camera_service.robot.login import PasswordLogin
from camera_service.robot.sdk_robot import RobotTarget
from camera_service.sources.base import ClipSettings
from clip_helpers import DownloadedClip, clip_source, clips_in, start_clip_service
from selenium.webdriver.common.by import By
from service_test_helpers import Reply, service_config

from devtools.polling import wait_for
from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.v4l2_world import FakeV4L2World, thermal_camera
from robot_sim import RobotSimulator
from robot_sim.daq_helpers import acquire, data_captures, download_group
from viewer.__main__ import start_viewer
from viewer.clip_play import BOUNDARY
from viewer.http_api import ViewerServer

pytestmark = pytest.mark.slow

GROUP = "2026-12-06T230000Z_Clips"
ACTION = "Gauge 7"
FPS = 30


@dataclass
class Recorded:
    sim: RobotSimulator
    camera: FakeIPCamera
    viewer: ViewerServer
    files: Dict[str, bytes]  # the robot's download: "<group>/<file>" -> bytes
    clips: Dict[str, DownloadedClip]  # by capability

    def get(self, path: str, viewer: ViewerServer | None = None) -> Reply:
        """GET ``path`` from the viewer; HTTP errors are returned, not raised."""
        url = (viewer or self.viewer).url + path.lstrip("/")
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return Reply(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())

    def listed(self) -> Dict[str, dict]:
        """The viewer's clips by source."""
        return {clip["source"]: clip for clip in self.get("/api/clips").json()["clips"]}


def viewer_of(sim: RobotSimulator, **limits) -> ViewerServer:
    return start_viewer(RobotTarget(sim.address, sim.port, str(sim.ca_cert)),
                        PasswordLogin(sim.username, sim.password), ("127.0.0.1", 0), **limits)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Iterator[Recorded]:
    folder = tmp_path_factory.mktemp("viewer-clips")
    started: list = []
    world = FakeV4L2World(str(folder / "v4l2"))
    small = {(160, 128): float(FPS)}
    thermal = world.source(world.plug(thermal_camera(paced=True, modes={
        "GREY": dict(small), "Y16": dict(small)})), "thermal", fps=FPS)
    thermal.settings.clips = ClipSettings(enabled=True, pre_roll_s=1.0)
    with RobotSimulator(state_dir=folder / "robot") as sim, \
            FakeIPCamera(width=320, height=240, fps=FPS, quality=70) as camera:
        front = clip_source("front", url=camera.url, pre_roll_s=1.0)
        built = [*service_config(sim, [front]).build_sources(), thermal]
        try:
            _service, robot, _ = start_clip_service(sim, started, [], built=built)
            status = acquire(robot, data_captures("front-clip", "thermal-clip", duration_s=2,
                                                  pre_roll_s=1.0), ACTION, GROUP)
            assert status.status == daq.GetStatusResponse.STATUS_COMPLETE, status
            files = download_group(sim, robot, GROUP, folder / "dl")
            clips = clips_in(files, folder / "clips")
            viewer = viewer_of(sim)
            try:
                yield Recorded(sim, camera, viewer, files, clips)
            finally:
                viewer.stop()
        finally:
            for service in started:
                service.stop()


def no_clip_files(viewer: ViewerServer) -> None:
    """The viewer's temporary clip files are gone (deleted as the answer ends, which may be
    a moment after the client read the last byte)."""
    wait_for(lambda: not os.listdir(viewer.clip_dir), timeout=10, what="temp files deleted")


def multipart_jpegs(body: bytes) -> List[bytes]:
    """The JPEGs of a complete ``multipart/x-mixed-replace`` body (asserts its framing and
    its closing boundary)."""
    jpegs, rest = [], body
    marker = f"--{BOUNDARY}".encode()
    while True:
        assert rest.startswith(marker), rest[:80]
        rest = rest[len(marker):]
        if rest == b"--\r\n":
            return jpegs
        head, _, rest = rest.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if line)
        assert headers["Content-Type"] == "image/jpeg"
        size = int(headers["Content-Length"])
        jpegs.append(rest[:size])
        assert rest[size:size + 2] == b"\r\n"
        rest = rest[size + 2:]


def test_lists_the_recorded_clips_newest_first_in_pages(recorded):
    reply = recorded.get("/api/clips")
    assert reply.status == 200
    body = reply.json()
    assert body["more"] is False and body["page_size"] == 50
    clips = {clip["source"]: clip for clip in body["clips"]}
    assert set(clips) == {"front", "thermal"}
    front = clips["front"]
    assert (front["channel"], front["action"], front["group"]) == ("front-clip", ACTION, GROUP)
    stored = recorded.clips["front-clip"].metadata["action_robot_time"]
    assert abs(front["action_time"] - stored) < 0.01  # the action's robot time
    ids = [clip["id"] for clip in body["clips"]]
    assert ids == sorted(ids, reverse=True)
    first = recorded.get("/api/clips?limit=1").json()
    assert [c["id"] for c in first["clips"]] == ids[:1] and first["more"]
    second = recorded.get(f"/api/clips?limit=1&before={first['next_before']}").json()
    assert [c["id"] for c in second["clips"]] == ids[1:] and not second["more"]


def test_download_is_the_clip_the_robots_download_holds(recorded):
    front = recorded.listed()["front"]
    reply = recorded.get(f"/api/clips/{front['id']}/download")
    assert reply.status == 200, reply.body[:200]
    assert reply.headers["Content-Type"] == "video/x-matroska"
    stored = recorded.files[f"{GROUP}/{ACTION} front-clip clip.mkv"]
    assert reply.body == stored
    assert int(reply.headers["Content-Length"]) == len(stored)
    assert f'filename="{GROUP} {ACTION} front-clip.mkv"' in reply.headers["Content-Disposition"]
    no_clip_files(recorded.viewer)
    # fetched once: frames and duration are known from now on
    listed = recorded.listed()["front"]
    clip = recorded.clips["front-clip"]
    assert listed["frames"] == len(clip.jpegs)
    assert listed["duration_s"] == pytest.approx((clip.pts_ms[-1] - clip.pts_ms[0]) / 1000)


def test_play_streams_the_cameras_own_jpegs_in_order_and_ends(recorded):
    front = recorded.listed()["front"]
    reply = recorded.get(f"/api/clips/{front['id']}/play")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    jpegs = multipart_jpegs(reply.body)  # read to the end: the stream ended by itself
    assert jpegs == recorded.clips["front-clip"].jpegs
    sequences = [recorded.camera.sequence_of(jpeg) for jpeg in jpegs]
    assert None not in sequences and sequences == sorted(sequences)  # the camera's bytes
    no_clip_files(recorded.viewer)


def test_sixteen_bit_clip_plays_its_eight_bit_view(recorded):
    thermal = recorded.listed()["thermal"]
    jpegs = multipart_jpegs(recorded.get(f"/api/clips/{thermal['id']}/play").body)
    clip = recorded.clips["thermal-clip"]
    assert set(clip.packets) == {0, 1}  # the view and the raw values
    assert jpegs == clip.packets[0]


def test_clip_over_the_size_limit_is_refused_in_one_line(recorded):
    small = viewer_of(recorded.sim, max_clip_bytes=1000)
    try:
        front = recorded.listed()["front"]
        for route in ("download", "play"):
            reply = recorded.get(f"/api/clips/{front['id']}/{route}", viewer=small)
            assert reply.status == 413
            body = reply.json()
            assert body["error"] == "clip_too_large"
            assert "over the viewer's limit of 0 MiB" in body["message"]
            assert "\n" not in body["message"] and "Traceback" not in reply.body.decode()
        no_clip_files(small)
    finally:
        small.stop()


def test_unknown_clip_and_bad_query_answer_one_line(recorded):
    reply = recorded.get("/api/clips/999999/play")
    assert reply.status == 404
    assert reply.json()["error"] == "unknown_clip"
    assert "refresh the clips list" in reply.json()["message"]
    reply = recorded.get("/api/clips?limit=0")
    assert reply.status == 400
    assert reply.json()["message"] == "limit='0' is not a whole number in 1..500"


def test_browser_closing_mid_play_logs_no_error(recorded, caplog):
    front = recorded.listed()["front"]
    host, port = recorded.viewer.server_address[:2]
    with caplog.at_level(logging.DEBUG), socket.create_connection((host, port)) as sock:
        sock.sendall(f"GET /api/clips/{front['id']}/play HTTP/1.1\r\n"
                     f"Host: {host}:{port}\r\n\r\n".encode())
        received = b""
        while received.count(f"--{BOUNDARY}".encode()) < 3:
            received += sock.recv(65536)
        # gone after two frames: the viewer meets a closed socket on a later frame
    no_clip_files(recorded.viewer)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert recorded.get("/api/clips").status == 200  # and it keeps serving


def test_robot_unreachable_is_503(recorded):
    recorded.sim.refuse_connections(3)
    reply = recorded.get("/api/clips")
    assert reply.status == 503
    body = reply.json()
    assert body["error"] == "robot_unreachable"
    assert body["message"].startswith(f"robot unreachable at {recorded.sim.address}")
    wait_for(lambda: recorded.get("/api/clips").status == 200, timeout=30, interval=0.5)


@pytest.mark.browser
def test_page_lists_the_clip_and_plays_it_in_the_image_area(recorded, browser, tmp_path):
    browser.get(recorded.viewer.url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#clips li[data-source="front"]'),
         "the clip is not listed")
    item = browser.find_element(By.CSS_SELECTOR, '#clips li[data-source="front"]')
    assert ACTION in item.text and GROUP in item.text
    link = item.find_element(By.CLASS_NAME, "clip-download")
    assert link.get_attribute("href").endswith(f"/api/clips/{item.get_attribute('data-clip-id')}"
                                               "/download")
    item.find_element(By.CLASS_NAME, "clip-play").click()
    image = browser.find_element(By.ID, "clip-image")
    seen: List[str] = []

    def changed_twice(driver) -> bool:
        pixels = driver.execute_script(PIXELS_JS, image)
        if pixels is None:  # the next frame still loading
            return False
        if not seen or seen[-1] != pixels:
            seen.append(pixels)
        return len(seen) >= 3

    wait(browser, changed_twice, "the clip's picture did not change twice")
    assert image.get_attribute("naturalWidth") == "320"
    assert browser.find_element(By.ID, "clip-player").is_displayed()
    save_screenshot(browser, tmp_path, "viewer-clip.png")
    browser.find_element(By.ID, "clips-refresh").click()  # the list holds it after a refresh
    wait(browser, lambda d: "frames" in d.find_element(
        By.CSS_SELECTOR, '#clips li[data-source="front"]').text, "no frame count after Play")
