"""Abuse: the whole service, in a 512 MiB memory cgroup, reading every bad stream of the
hostile camera at once (issue 23, defects 2 and 3 and the lower camera ones).

Each bad path is one ``url`` camera of one service process (next to a genuine camera):
endless part headers and header lines, an endless HTTP head, a huge declared length, a part
without end, a PNG of 16000x16000 and small frames of other formats declaring as much, all
labelled ``image/jpeg``, random bytes, a camera dripping bytes, one flapping, one holding
half a frame. Asserted: no OOM kill and the cgroup's peak under the limit (before: the PNG
bomb was decoded and OOM-killed within 4 s, an endless part header grew 6.6 MB/s), every
bad camera faulted with a line naming its problem, the genuine camera still served, stderr
free of OpenCV's lines, and the log bounded (a few lines per camera).
"""

from __future__ import annotations

import time

import grpc
import pytest
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.image import build_image_request
from memory_cgroup import MemoryCgroup, RssSampler
from reliability_support import config_mapping

from bench.processes import ServiceProcess
from devtools.polling import wait_for
from fake_cameras.hostile_cameras import HostileCameraServer
from robot_sim import RobotSimulator

MIB = 1024 * 1024
LIMIT = 512 * MIB
# camera name -> (path, words of its fault line, or a tuple of alternatives)
BAD = {
    "partheader": ("/endless-part-header", "part header over"),
    "headerline": ("/endless-header-line", "part header line over"),
    "httphead": ("/endless-http-header", "malformed HTTP response"),
    "hugelength": ("/length-huge", "byte part, over the"),
    "noboundary": ("/no-boundary", "without length over"),
    "pngbomb": ("/png-bomb", "PNG image declaring 16000x16000"),
    "tiffbomb": ("/tiff-bomb", "TIFF image"),
    "gifbomb": ("/gif-bomb", "GIF image declaring 16000x16000"),
    "garbage": ("/garbage", "no known image format"),
    # the byte-rate floor, or the read timeout while the socket waits for the frame's rest
    "drip": ("/drip?rate=50", ("no complete frame", "timed out")),
    "slowloris": ("/slow-loris", "timed out"),
}


@pytest.mark.slow
def test_every_hostile_camera_at_once_in_512_mib(tmp_path):
    if not MemoryCgroup.available():
        pytest.skip("needs a memory cgroup (root, cgroup v1 or v2 with memory)")
    with HostileCameraServer(fps=10.0) as hostile, \
            RobotSimulator(state_dir=tmp_path / "robot") as sim:
        sources = [{"name": name, "type": "url", "url": hostile.url(path), "timeout": 2}
                   for name, (path, _) in BAD.items()]
        sources.append({"name": "good", "type": "url", "url": hostile.url("/valid?fps=10")})
        sources.append({"name": "flap", "type": "url", "url": hostile.url("/flap?period=1")})
        process = ServiceProcess(config_mapping(sim, sources))
        cgroup = MemoryCgroup(LIMIT)
        procs = cgroup.path / "cgroup.procs"
        process.command = ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh",
                           *process.command]
        try:
            process.start(timeout=60)
            sampler = RssSampler(process.process.pid)
            started = time.monotonic()
            for name, (_, words) in BAD.items():
                wanted = words if isinstance(words, tuple) else (words,)
                wait_for(lambda name=name, wanted=wanted: any(
                    repr(name) in line and any(w in line for w in wanted)
                    for line in process.lines),
                    timeout=60, what=f"camera {name} faulted with {wanted}")
            with grpc.insecure_channel(f"127.0.0.1:{process.port}") as channel:
                stub = image_service_pb2_grpc.ImageServiceStub(channel)
                reply = wait_for(lambda: stub.GetImage(image_pb2.GetImageRequest(
                    image_requests=[build_image_request("good")]), timeout=10),
                    timeout=30)
                assert reply.image_responses[0].status == image_pb2.ImageResponse.STATUS_OK
            while time.monotonic() - started < 20:  # the flapping camera flaps meanwhile
                assert process.process.poll() is None, "the service died"
                time.sleep(1.0)
            sampler.stop()
            peak = cgroup.peak()
            print(f"\nhostile cameras at once: cgroup peak {(peak or 0) / MIB:.0f} MiB, RSS "
                  f"peak {sampler.peak / MIB:.0f} MiB, {len(process.lines)} log lines in "
                  f"{time.monotonic() - started:.0f} s")
            assert cgroup.oom_kills() == 0
            assert peak is None or peak < LIMIT
            assert not [line for line in process.lines if "[ WARN:" in line or
                        "[ERROR:" in line or "Traceback" in line]
            per_camera = {name: sum(repr(name) in line for line in process.lines)
                          for name in [*BAD, "flap"]}
            assert max(per_camera.values()) <= 8, per_camera
        finally:
            process.stop()
            cgroup.remove()
