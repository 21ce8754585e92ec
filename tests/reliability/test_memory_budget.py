"""Hostile and careless load against the service under the extension's 512 MiB limit.

The service runs as its own process inside a memory cgroup of 512 MiB (the container's
``mem_limit``; without root the peak private resident memory is measured instead and the
budget is configured),
registered with the robot simulator. Each case of issue 13 is replayed with real clients
(``build_image_request`` over the ImageService stub, and the SDK's ``ImageClient`` through the
robot as a logged-in user). For every case: the process stays alive and under the limit (no
OOM kill), every request is answered with a status, and the service serves normally after.
Peak memory and statuses per case are printed (``pytest -s``) for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
from typing import Dict, List

import grpc
import psutil
import pytest
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc
from bosdyn.client.exceptions import InvalidRequestError
from bosdyn.client.image import ImageDataError, build_image_request
from memory_cgroup import MemoryCgroup, RssSampler
from reliability_support import MAX_MESSAGE_BYTES, config_mapping, synthetic

from bench.processes import ServiceProcess
from devtools.polling import wait_for
from fake_cameras.hostile_cameras import huge_camera, jpeg_bomb_camera, truncated_camera
from robot_sim import RobotSimulator

MIB = 1024 * 1024
LIMIT = 512 * MIB
MAX_IMAGES = 32  # service.max_images_per_request's default
ROUTED_IMAGES = 8  # RAW 720p through the robot in one call, within the cap
Image = image_pb2.Image
Resp = image_pb2.ImageResponse
RAW = Image.FORMAT_RAW
SOURCES = [synthetic("hd", 1920, 1080, fps=10, native_jpeg=False),
           synthetic("hd720", 1280, 720, fps=10, native_jpeg=False),
           synthetic("huge", 5000, 4500, fps=0.5, native_jpeg=False)]
RESULTS: List[Dict[str, object]] = []


def _url_sources(name: str, camera) -> List[Dict[str, object]]:
    """The camera read as served (its JPEG bytes) and, as ``<name>-ffmpeg``, decoded by
    FFmpeg (what an RTSP camera goes through)."""
    return [{"name": name, "type": "url", "url": camera.url},
            {"name": f"{name}-ffmpeg", "type": "url", "url": camera.url, "reader": "ffmpeg"}]


class Harness:
    """The service process in its cgroup, a direct stub and a routed SDK ImageClient; the
    hostile cameras are ``cameras`` (name -> started FakeIPCamera)."""

    def __init__(self, sim: RobotSimulator, use_cgroup: bool, cameras: Dict) -> None:
        mapping = config_mapping(sim, SOURCES + [source for name, camera in cameras.items()
                                                 for source in _url_sources(name, camera)])
        if not use_cgroup:
            mapping["service"] = {"memory_limit_mib": LIMIT // MIB}
        self.process = ServiceProcess(mapping)
        self.cgroup = MemoryCgroup(LIMIT) if use_cgroup else None
        if self.cgroup is not None:  # the service starts inside it and reads its limit
            procs = self.cgroup.path / "cgroup.procs"
            self.process.command = ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh",
                                    *self.process.command]
        try:
            self._start(sim)
        except BaseException:
            self.stop()
            raise

    def _start(self, sim: RobotSimulator) -> None:
        self.channel = None
        self.process.start(timeout=60)
        self.sampler = RssSampler(self.process.process.pid)
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.process.port}",
            options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        self.stub = image_service_pb2_grpc.ImageServiceStub(self.channel)
        sim.wait_for_service("camera-image-service", timeout=30)
        robot = sim.sdk_robot("budget-test")  # a logged-in user
        robot.sync_with_directory()
        self.routed = robot.ensure_client("camera-image-service")
        for name in ("hd", "hd720", "huge"):
            wait_for(lambda name=name: self._ok(name), timeout=60, interval=0.2)

    def _ok(self, name: str) -> bool:
        reply = self.stub.GetImage(image_pb2.GetImageRequest(
            image_requests=[build_image_request(name)]), timeout=10)
        return reply.image_responses[0].status == Resp.STATUS_OK

    def start_case(self) -> None:
        if self.cgroup is not None:
            self.cgroup.reset_peak()
        self.sampler.reset()

    def finish_case(self, case: str, statuses: collections.Counter, **extra) -> None:
        """Check the service survived within the limit and serves normally; record."""
        assert self.process.process.poll() is None, "the service died"
        time.sleep(1.0)
        extra["rss_after_mib"] = _mib(psutil.Process(self.process.process.pid).memory_info().rss)
        cgroup_peak = self.cgroup.peak() if self.cgroup is not None else None
        RESULTS.append({"case": case, "cgroup_peak_mib": _mib(cgroup_peak),
                        "private_peak_mib": _mib(self.sampler.peak),
                        "rss_peak_mib": _mib(self.sampler.rss_peak),
                        "statuses": dict(statuses), **extra})
        if self.cgroup is not None:
            assert self.cgroup.oom_kills() == 0
            assert cgroup_peak < LIMIT
        assert self.sampler.peak < LIMIT
        for name in ("hd", "hd720"):
            assert self._ok(name), f"{name} not served normally after {case}"

    def stop(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if getattr(self, "sampler", None) is not None:
            self.sampler.stop()
        self.process.stop()
        if self.cgroup is not None:
            self.cgroup.remove()


def _mib(value) -> float | None:
    return None if value is None else round(value / MIB, 1)


def _names(responses) -> collections.Counter:
    return collections.Counter(Resp.Status.Name(r.status) for r in responses)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cameras = {"bomb": jpeg_bomb_camera(), "truncated": truncated_camera(),
               "huge8k": huge_camera(8000, fps=1.0)}
    with contextlib.ExitStack() as stack:
        for camera in cameras.values():
            stack.enter_context(camera)
        sim = stack.enter_context(RobotSimulator(state_dir=tmp_path_factory.mktemp("robot")))
        running = Harness(sim, MemoryCgroup.available(), cameras)
        yield running
        running.stop()
    print("\nmemory budget cases (limit 512 MiB):")
    for row in RESULTS:
        print(f"  {row}")


def _raw(source: str, count: int) -> image_pb2.GetImageRequest:
    return image_pb2.GetImageRequest(image_requests=[
        build_image_request(source, image_format=RAW,
                            pixel_format=Image.PIXEL_FORMAT_RGB_U8)] * count)


def test_budget_comes_from_the_cgroup_limit(harness):
    wanted = ("the container's cgroup limit" if harness.cgroup is not None
              else "service.memory_limit_mib")
    assert any(f"memory budget: 512 MiB from {wanted}" in line
               for line in harness.process.lines), harness.process.lines[:5]


@pytest.mark.parametrize(("case", "source", "count"), [
    ("32 RAW 1080p in one request (the cap)", "hd", MAX_IMAGES),
    ("200 RAW 1080p in one request", "hd", 200),
    ("1000 RAW 720p in one request", "hd720", 1000),
])
def test_one_huge_request(harness, case, source, count):
    harness.start_case()
    reply = harness.stub.GetImage(_raw(source, count), timeout=30)
    if count > MAX_IMAGES:  # refused whole, in one bounded answer (issue 23)
        assert reply.header.error.code == header_pb2.CommonError.CODE_INVALID_REQUEST
        assert not reply.image_responses and reply.ByteSize() < 4096
        assert "service.max_images_per_request" in reply.header.error.message
        statuses = collections.Counter({"refused whole (CODE_INVALID_REQUEST)": 1})
    else:
        assert len(reply.image_responses) == count
        statuses = _names(reply.image_responses)
        assert statuses["STATUS_OK"] >= 1 and set(statuses) == {"STATUS_OK",
                                                                "STATUS_IMAGE_DATA_ERROR"}
    harness.finish_case(case, statuses)


def test_150_raw_720p_through_the_robot_as_a_logged_in_user(harness):
    harness.start_case()
    request = build_image_request("hd720", image_format=RAW,
                                  pixel_format=Image.PIXEL_FORMAT_RGB_U8)
    with pytest.raises(InvalidRequestError, match="max_images_per_request"):
        harness.routed.get_image([request] * 150, timeout=30)  # refused whole (issue 23)
    try:  # what a client may ask in one call still goes through the robot
        responses = harness.routed.get_image([request] * ROUTED_IMAGES, timeout=30)
    except ImageDataError as err:  # the SDK raises when any image has an error status
        responses = err.response.image_responses
    assert len(responses) == ROUTED_IMAGES
    statuses = _names(responses)
    assert statuses["STATUS_OK"] >= 1
    harness.finish_case(f"150 RAW 720p routed, logged-in user (refused whole), then "
                        f"{ROUTED_IMAGES}", statuses)


def test_four_clients_ten_raw_1080p_each(harness):
    harness.start_case()
    results: List = []

    def client() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{harness.process.port}", options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]) as channel:
            stub = image_service_pb2_grpc.ImageServiceStub(channel)
            for _ in range(3):
                results.extend(stub.GetImage(_raw("hd", 10), timeout=30).image_responses)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 4 * 3 * 10
    statuses = _names(results)
    assert statuses["STATUS_OK"] >= 10
    harness.finish_case("4 clients x 10 RAW 1080p (x3 rounds)", statuses)


def test_clients_that_give_up_leave_no_work_running(harness):
    harness.start_case()
    failures = collections.Counter()

    def client() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{harness.process.port}") as channel:
            try:
                image_service_pb2_grpc.ImageServiceStub(channel).GetImage(
                    _raw("hd", 1000), timeout=0.3)
            except grpc.RpcError as err:
                failures[err.code().name] += 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    time.sleep(1.0)  # anything still running for the gone clients shows up as CPU now
    cpu_before = harness.process.cpu_seconds()
    time.sleep(2.0)
    busy = harness.process.cpu_seconds() - cpu_before
    assert busy < 1.0, f"the service used {busy:.2f} s of CPU in 2 s after its clients left"
    harness.finish_case("4 clients give up after 0.3 s (1000 RAW 1080p each)", failures,
                        cpu_after_s=round(busy, 2))


def test_an_image_over_the_grpc_message_limit_fails_only_its_status(harness):
    harness.start_case()
    reply = harness.stub.GetImage(image_pb2.GetImageRequest(image_requests=[
        build_image_request("huge", image_format=RAW, pixel_format=Image.PIXEL_FORMAT_RGB_U8),
        build_image_request("hd")]), timeout=30)
    huge, normal = reply.image_responses
    assert huge.status == Resp.STATUS_IMAGE_DATA_ERROR
    assert "would take the response past" in huge.custom_param_error.error_messages[0]
    assert normal.status == Resp.STATUS_OK
    harness.finish_case("RAW 5000x4500 (67.5 MB) + 1 JPEG", _names(reply.image_responses))


def test_garbage_requests_are_answered_and_logged_once(harness):
    harness.start_case()
    lines_before = len(harness.process.lines)
    raw = harness.channel.unary_unary("/bosdyn.api.ImageService/GetImage")
    answered = collections.Counter()
    started = time.monotonic()
    for i in range(8000):
        reply = image_pb2.GetImageResponse.FromString(
            raw(b"\xff\xff\xff\xff\x0f" + os.urandom(i % 64), timeout=5))
        answered[header_pb2.CommonError.Code.Name(reply.header.error.code)] += 1
    seconds = time.monotonic() - started
    about = [line for line in harness.process.lines[lines_before:]
             if "malformed" in line or "Traceback" in line or "deserializ" in line]
    new_lines = len(about)
    assert answered == {"CODE_INVALID_REQUEST": 8000}
    # the rule: one line, then at most one more every 10 s however many arrive
    assert 1 <= new_lines <= 2 + int(seconds // 10), about[:5]
    harness.finish_case("8000 garbage GetImage requests", answered, log_lines=new_lines,
                        seconds=round(seconds, 1))


@pytest.mark.parametrize(("case", "camera", "count", "ratio", "needle"), [
    ("JPEG bomb (header 30000x30000), resize 0.5", "bomb", 1, 0.5, "30000x30000"),
    ("8000x8000 camera, one request", "huge8k", 1, 0.0, "8000x8000"),
    ("8000x8000 camera, eight at once", "huge8k", 8, 0.5, "8000x8000"),
    ("8000x8000 camera through FFmpeg (as RTSP)", "huge8k-ffmpeg", 1, 0.0, "8000x8000"),
    ("truncated frames", "truncated", 4, 0.0, "unusable frames"),
])
def test_hostile_cameras_are_faulted_never_served(harness, case, camera, count, ratio,
                                                  needle):
    harness.start_case()
    request = image_pb2.GetImageRequest(image_requests=[
        build_image_request(camera, quality_percent=75, resize_ratio=ratio)] * count)

    def refused_with_reason():
        reply = harness.stub.GetImage(request, timeout=10)
        errors = [r.custom_param_error.error_messages for r in reply.image_responses]
        return all(r.status == Resp.STATUS_IMAGE_DATA_ERROR for r in reply.image_responses) \
            and all(needle in " ".join(e) for e in errors) and reply

    reply = wait_for(refused_with_reason, timeout=20, interval=0.2)
    listed = {s.name: s for s in harness.stub.ListImageSources(
        image_pb2.ListImageSourcesRequest(), timeout=10).image_sources}
    assert (listed[camera].cols, listed[camera].rows) not in ((30000, 30000), (8000, 8000))
    assert any(needle in line and "service.memory_limit_mib" in line
               for line in harness.process.lines) or camera == "truncated"
    harness.finish_case(case, _names(reply.image_responses))
