"""MJPEG cameras through the guest kernel: the native service against v4l2loopback nodes fed
the way UVC cameras deliver frames, next to vivid.

Two loopback "cameras" are made with the image's v4l2loopback module and named by the image's
udev rule (``/dev/loop-cameras/<label>``): A sends 1280x720 at 30 fps in the frame shapes a
service must serve (JFIF, no DHT, AVI1, padding after EOI), B 640x480 at 10 fps with
truncated and corrupt frames among them. One service process serves A, B and vivid at once
(plus A once more as a source that never passes the camera's bytes through, to compare
costs); a tablet-style SDK client reads JPEG with the SDK's default request through the robot
simulator. Then A's feeder stalls and
resumes, a camera sends nothing but damaged frames, and both loopback devices are deleted and
created again under other node numbers (the closest to unplug and replug): the service must
fault and recover each time through the stable names, without a restart.

Figures (end of session): share of responses byte-identical to the feeder's frames, fresh
frames/s against the feeder's rate, service CPU with passthrough against re-encoding, unplug
-> fault and replug -> cleared times, dropped damaged frames against the feeder's count.
Tests run in file order against one service process (module fixtures).
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from bosdyn.client.image import ImageDataError
from loopback_support import (
    SERVED_MIX,
    LoopbackCameras,
    collect,
    cpu_ms_per_second,
    expected_served,
    frame_rates,
    stable_name,
    tally,
)
from vm_support import (
    NativeService,
    fault_names,
    free_service_port,
    image_client,
    jpeg_frames,
    negotiated_formats,
    note,
    record,
)

from devtools.polling import wait_for
from fake_cameras import uvc_frames

pytestmark = [pytest.mark.vm, pytest.mark.slow, pytest.mark.timeout(1500)]

SERVICE_NAME = "camera-image-service-mjpeg"
A, B = "loop-mjpeg-a", "loop-mjpeg-b"
SOURCE = {A: "loop-a", B: "loop-b"}
VIVID = "vivid"
#: A second reader of camera A's node, never passing the camera's bytes through.
REENCODED = "loop-a-reencoded"
#: A: every served shape, 8 times (32 distinct frames, about a second at 30 fps).
STREAM_A = uvc_frames.camera_stream(1280, 720, 30, SERVED_MIX * 8)
#: B: 16 served frames and 4 damaged ones, never two damaged in a row.
STREAM_B = uvc_frames.camera_stream(640, 480, 10, [
    *SERVED_MIX[:3], "truncated", *SERVED_MIX, "corrupt", *SERVED_MIX, "truncated",
    *SERVED_MIX, "corrupt", SERVED_MIX[3]])
ONLY_DAMAGED = uvc_frames.camera_stream(640, 480, 10, ["truncated", "corrupt"] * 5)


@pytest.fixture(scope="module")
def loopback(vm) -> Iterator[LoopbackCameras]:
    cameras = LoopbackCameras(vm, (A, B))
    cameras.load(first_node=10)
    cameras.start_feeder(A, STREAM_A)
    cameras.start_feeder(B, STREAM_B)
    try:
        yield cameras
    finally:
        cameras.stop_all()


@pytest.fixture(scope="module")
def mjpeg_service(vm, vm_robot, loopback) -> Iterator[NativeService]:
    port = vm.forward(free_service_port())
    service = NativeService(vm, vm_robot, port, SERVICE_NAME, [
        {"name": SOURCE[A], "type": "v4l2", "device": stable_name(A), "width": 1280,
         "height": 720, "fps": 30},
        {"name": SOURCE[B], "type": "v4l2", "device": stable_name(B), "width": 640,
         "height": 480, "fps": 10},
        {"name": VIVID, "type": "v4l2", "device": "/dev/v4l/by-path/platform-vivid.0-video-index0",
         "width": 640, "height": 480, "fps": 10},
        {"name": REENCODED, "type": "v4l2", "device": stable_name(A), "width": 1280,
         "height": 720, "fps": 30, "jpeg_passthrough": "never"},
    ], tag="mjpeg-service")
    try:
        record("native service with 2 loopback MJPEG + vivid: start -> registered",
               service.start())
        yield service
    finally:
        service.log()
        service.stop()
        loopback.stop_all()
        loopback.unload()


def _faulted(robot, source: str) -> bool:
    return any(f"camera {source} " in name for name in fault_names(robot))


def test_image_has_v4l2loopback_built_for_its_kernel(vm, loopback):
    kernel = vm.run("uname -r").stdout.strip()
    assert vm.run("modinfo -F vermagic v4l2loopback").stdout.split()[0] == kernel
    assert vm.run("command -v v4l2loopback-ctl", check=False).returncode == 0
    for label, stream in ((A, STREAM_A), (B, STREAM_B)):
        node = loopback.node(label)
        assert node.startswith("/dev/video1"), (label, node)
        fmt = vm.run(f"v4l2-ctl -d {stable_name(label)} --get-fmt-video").stdout
        assert "MJPG" in fmt and f"{stream.width}/{stream.height}" in fmt, fmt
    package = vm.run("dpkg-query -W -f='${Version}' v4l2loopback-dkms").stdout.strip()
    note("v4l2loopback in the VM", f"{package} (dkms, built for {kernel} at image build)")


def test_720p30_mjpeg_is_served_byte_identical_through_the_sdk(mjpeg_service, loopback,
                                                               vm_robot):
    client = image_client(vm_robot, SERVICE_NAME)
    listed = {source.name: source for source in client.list_image_sources()}
    assert (listed[SOURCE[A]].cols, listed[SOURCE[A]].rows) == (1280, 720)
    granted = [entry for entry in negotiated_formats(mjpeg_service.log())
               if entry["node"] == loopback.node(A)]
    assert granted and granted[0]["fourcc"] == "MJPG", mjpeg_service.log()[-3000:]
    served = collect(client, SOURCE[A], expected_served(STREAM_A), window=10.0)
    rates = frame_rates(mjpeg_service, loopback, {A: SOURCE[A]}, window=5.0)[A]
    hygiene = mjpeg_service.counters()["frame_hygiene"][SOURCE[A]]
    note("loop-a 720p30 MJPEG: GetImage (SDK default request) byte-identical to the feeder's "
         "frame (normalized)", f"{served.identical_percent:.1f}% of {served.responses}")
    note("loop-a: fresh frames/s seen by one SDK client polling back to back",
         f"{served.fresh_per_second:.1f}")
    note("loop-a: frames/s stored by the service vs written by the feeder (30 fps set)",
         f"{rates[0]:.1f} vs {rates[1]:.1f}")
    note("loop-a hygiene: tables inserted / trailing bytes cut / passed (1 in 4 sent with "
         "padding, 2 in 4 without DHT)",
         f"{hygiene['tables_inserted']} / {hygiene['trimmed']} / {hygiene['passed']}")
    assert served.responses >= 10 and served.identical == served.responses
    assert hygiene["dropped"] == {}
    assert hygiene["tables_inserted"] > 0 and hygiene["trimmed"] > 0
    # Reading the kernel's buffers by bytesused: only the padded frames need cutting.
    assert hygiene["trimmed"] <= 0.4 * hygiene["passed"], hygiene
    assert served.distinct >= 5 and rates[0] > 0


def test_two_loopback_cameras_and_vivid_at_once(mjpeg_service, loopback, vm_robot):
    client = image_client(vm_robot, SERVICE_NAME)
    loop_a = collect(client, SOURCE[A], expected_served(STREAM_A), window=3.0)
    loop_b = collect(client, SOURCE[B], expected_served(STREAM_B), window=3.0)
    vivid_frames, vivid_image = jpeg_frames(client, VIVID, 3.0)
    assert loop_a.identical == loop_a.responses > 0
    assert loop_b.identical == loop_b.responses > 0, "a damaged frame was served"
    assert vivid_frames >= 2 and vivid_image.shape[:2] == (480, 640)
    assert not any(_faulted(vm_robot, source) for source in (*SOURCE.values(), VIVID,
                                                              REENCODED)), \
        fault_names(vm_robot)
    # What B's feeder sent against what the service dropped, over the same frames.
    counted = tally(mjpeg_service, loopback, B, SOURCE[B], window=8.0)
    note("loop-b: damaged frames dropped by the service / sent by the feeder in 8 s "
         "(truncated + corrupt, 10 fps, next to loop-a 720p30 and vivid)",
         f"{counted.damaged_dropped} / {counted.damaged_sent} ({counted.read} frames read of "
         f"{counted.written} written; {counted.lost} skipped by the loopback while the "
         "service was late)")
    assert counted.damaged_sent > 0 and counted.truncated[0] > 0
    assert counted.lost <= 0.2 * counted.written, counted
    assert counted.consistent, counted


def test_a_camera_sending_only_damaged_frames_is_faulted_saying_so(mjpeg_service, loopback,
                                                                   vm_robot, request):
    pid = mjpeg_service.pid()
    loopback.switch(B, ONLY_DAMAGED)
    request.addfinalizer(lambda: loopback.switch(B, STREAM_B))
    wait_for(lambda: _faulted(vm_robot, SOURCE[B]), 60, "a fault for loop-b")
    messages = [fault.error_message for fault in vm_robot.active_faults()
                if SOURCE[B] in fault.fault_id.fault_name]
    assert any("sends only unusable frames" in message for message in messages), messages
    with pytest.raises(ImageDataError):  # nothing damaged is ever served
        image_client(vm_robot, SERVICE_NAME).get_image_from_sources([SOURCE[B]])
    loopback.switch(B, STREAM_B)
    wait_for(lambda: not _faulted(vm_robot, SOURCE[B]), 60, "the loop-b fault to clear")
    assert mjpeg_service.pid() == pid


def test_service_cpu_with_passthrough_against_reencoding(mjpeg_service, loopback, vm_robot):
    client = image_client(vm_robot, SERVICE_NAME)
    expected = expected_served(STREAM_A)
    window = 8.0
    idle = cpu_ms_per_second(mjpeg_service, lambda: time.sleep(window), window)
    kept = {}

    def poll(source):
        kept[source] = collect(client, source, expected, window, interval=0.05)

    passthrough = cpu_ms_per_second(mjpeg_service, lambda: poll(SOURCE[A]), window)
    reencode = cpu_ms_per_second(mjpeg_service, lambda: poll(REENCODED), window)
    rates = {source: served.responses / served.seconds for source, served in kept.items()}
    per_response = {source: (cpu - idle) / rates[source]
                    for source, cpu in ((SOURCE[A], passthrough), (REENCODED, reencode))}
    note("service CPU ms/s, nobody asking (4 sources open: loop-a 720p30 read twice, loop-b "
         "480p10, vivid 480p10)", f"{idle:.0f}")
    note(f"service CPU ms/s, camera A polled with the SDK default request at "
         f"{rates[SOURCE[A]]:.0f} / {rates[REENCODED]:.0f} req/s: jpeg_passthrough auto "
         "(camera's bytes) vs never (re-encoded)",
         f"{passthrough:.0f} vs {reencode:.0f} (over idle: {passthrough - idle:.0f} vs "
         f"{reencode - idle:.0f}; per response {per_response[SOURCE[A]]:.0f} vs "
         f"{per_response[REENCODED]:.0f} ms)")
    assert kept[SOURCE[A]].identical == kept[SOURCE[A]].responses > 0
    assert kept[REENCODED].identical == 0 < kept[REENCODED].responses  # really re-encoded
    assert reencode > passthrough


def test_stalled_feeder_faults_then_resumes(mjpeg_service, loopback, vm_robot):
    pid = mjpeg_service.pid()
    started = time.monotonic()
    loopback.pause(A)
    wait_for(lambda: _faulted(vm_robot, SOURCE[A]), 60, "a fault for the stalled loop-a")
    record("loop-a feeder stalls -> robot fault raised", time.monotonic() - started)
    started = time.monotonic()
    loopback.resume(A)
    wait_for(lambda: not _faulted(vm_robot, SOURCE[A]), 60, "the loop-a fault to clear")
    record("loop-a feeder resumes -> fault cleared", time.monotonic() - started)
    client = image_client(vm_robot, SERVICE_NAME)
    again = collect(client, SOURCE[A], expected_served(STREAM_A), window=2.0)
    assert again.identical == again.responses > 0
    assert mjpeg_service.pid() == pid and mjpeg_service.alive()


def test_deleted_and_recreated_devices_reopen_through_their_stable_names(mjpeg_service,
                                                                         loopback, vm_robot):
    pid = mjpeg_service.pid()
    loopback.stop_feeders((A, B))  # unplug: the cameras stop, then their devices go
    started = time.monotonic()
    wait_for(lambda: _faulted(vm_robot, SOURCE[A]) and _faulted(vm_robot, SOURCE[B]), 60,
               "faults for both loopback cameras", interval=0.5)
    record("loopback unplug (feeders gone) -> robot faults raised", time.monotonic() - started)
    loopback.unload()
    assert not loopback.node(A) and not loopback.node(B)
    time.sleep(2.0)  # unplugged for a while: the service keeps retrying
    assert _faulted(vm_robot, SOURCE[A]) and mjpeg_service.alive()
    started = time.monotonic()
    loopback.load(first_node=20)  # replugged: other /dev/videoN, same stable names
    for label in (A, B):
        loopback.start_feeder(label)
    wait_for(lambda: not _faulted(vm_robot, SOURCE[A]) and not _faulted(vm_robot, SOURCE[B]),
               90, "the loopback faults to clear after the replug")
    record("loopback replug (devices re-created, feeders back) -> faults cleared",
           time.monotonic() - started)
    assert loopback.node(A).startswith("/dev/video2")
    assert any(entry["node"] == loopback.node(A)
               for entry in negotiated_formats(mjpeg_service.log())), "not reopened"
    client = image_client(vm_robot, SERVICE_NAME)
    again = collect(client, SOURCE[A], expected_served(STREAM_A), window=2.0)
    assert again.identical == again.responses > 0
    assert mjpeg_service.pid() == pid, "the service was restarted; it must recover by itself"
