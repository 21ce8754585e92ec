"""What reading an HTTP MJPEG camera costs (issue 24: ingest near the copy cost).

``python -m bench.ingest`` prints two figures:

- *reader*: CPU per frame of the capture thread's work for one frame - the ``url`` source's
  ``read`` (HTTP multipart parsing, the frame's bytes, its quality estimate) and the frame
  hygiene's ``admit`` - measured with the reading thread's own CPU clock over ``--frames``
  frames of 1280x720 JPEG quality 90 from the fake IP camera's renderer, sent as fast as the
  reader takes them by a loopback server in this process; next to it the cost of one copy of
  such a frame (``bytes(bytearray)``), the floor of any reader.
- *segmented*: the same at 30 frames/s with every frame sent in 1448-byte segments over a
  few milliseconds, as a camera on a network sends it (the reader may wake once per segment).
- *idle* (``--idle``): the camera service's CPU per wall second with the fake IP camera
  (``fake_cameras.ip_camera``, its own process, 720p30 quality 90) and no client, over
  ``--seconds`` (needs a robot simulator process, started here).

Run it on two trees to compare them (e.g. before/after a change to the reader): the
measurement uses only the sources' and hygiene's public interfaces.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from typing import List, Optional

import cv2
from camera_service.capture.frame_hygiene import FrameHygiene
from camera_service.sources.base import SourceSettings
from camera_service.sources.synthetic import render_test_pattern
from camera_service.sources.url import UrlSource

SIZE, QUALITY, FPS = (1280, 720), 90, 30
BOUNDARY = b"benchframe"


def camera_frames(count: int = 30) -> List[bytes]:
    """``count`` distinct 720p quality-90 JPEGs as the fake IP camera renders them."""
    frames = []
    for sequence in range(1, count + 1):
        image = render_test_pattern(SIZE[0], SIZE[1], sequence, 1.7e9 + sequence / FPS)
        frames.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])[1]
                      .tobytes())
    return frames


class FloodServer:
    """Loopback MJPEG server sending ``frames`` round and round, as fast as it is read; or,
    ``segmented``, like a camera on a network: 30 frames/s, each part sent in 1448-byte
    segments (an Ethernet TCP segment) spread over a few milliseconds."""

    def __init__(self, frames: List[bytes], segmented: bool = False) -> None:
        self.segmented = segmented
        self.parts = [b"--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n"
                      % (BOUNDARY, len(frame), frame) for frame in frames]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/video"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; "
                         b"boundary=" + BOUNDARY + b"\r\n\r\n")
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                while not self._stop.is_set():
                    for part in self.parts:
                        if self.segmented:
                            self._send_segmented(conn, part)
                        else:
                            conn.sendall(part)
            except OSError:
                return

    def _send_segmented(self, conn: socket.socket, part: bytes) -> None:
        due = time.monotonic() + 1.0 / FPS
        for start in range(0, len(part), 1448):
            conn.sendall(part[start:start + 1448])
            if start % (8 * 1448) == 0:
                time.sleep(0.0002)
        time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()


def reader_cost(frames: int, repeats: int, segmented: bool = False) -> float:
    """Median over ``repeats`` of the reading thread's CPU ms per frame (read + admit)."""
    pictures = camera_frames()
    results = []
    for _ in range(repeats):
        server = FloodServer(pictures, segmented)
        source = UrlSource(SourceSettings("bench", options={"url": server.url}))
        hygiene = FrameHygiene("bench")
        try:
            hygiene.start(source.open())
            for _ in range(30):  # warm up
                hygiene.admit(source.read())
            started = time.thread_time()
            for _ in range(frames):
                if hygiene.admit(source.read()) is None:
                    raise RuntimeError("a good frame was dropped")
            results.append((time.thread_time() - started) * 1000 / frames)
        finally:
            source.close()
            server.stop()
    return statistics.median(results)


def copy_cost(frame: bytes, count: int = 300) -> float:
    """CPU ms of one copy of ``frame`` into a new bytes object (the floor of a reader)."""
    buffer = bytearray(frame)
    started = time.thread_time()
    for _ in range(count):
        bytes(buffer)
    return (time.thread_time() - started) * 1000 / count


def idle_cpu(seconds: float) -> float:
    """The service's CPU ms per wall second with the 720p30 IP camera and no client."""
    from bench.configs import service_config
    from bench.processes import FakeCameraProcess, ServiceProcess
    from robot_sim import RobotSimulatorProcess

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as state, \
            RobotSimulatorProcess(state_dir=state, extra_args=["--clock-skew", "0"]) as sim, \
            FakeCameraProcess(*SIZE, FPS, QUALITY) as camera:
        source = {"name": "cam", "type": "url", "url": camera.url}
        with ServiceProcess(service_config(sim, "ingest-idle", source)) as service:
            sim.wait_for_service("ingest-idle", timeout=30)
            time.sleep(2.0)  # capture settles, time sync done
            before, started = service.cpu_seconds(), time.monotonic()
            time.sleep(seconds)
            return (service.cpu_seconds() - before) * 1000 / (time.monotonic() - started)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per reader run")
    parser.add_argument("--repeats", type=int, default=3, help="reader runs (median)")
    parser.add_argument("--segmented", type=int, default=150, metavar="FRAMES",
                        help="frames of the segmented (network-like) run; 0 skips it")
    parser.add_argument("--idle", action="store_true", help="also measure service idle CPU")
    parser.add_argument("--seconds", type=float, default=10.0, help="idle window")
    args = parser.parse_args(argv)
    frame = camera_frames(1)[0]
    print(f"720p JPEG quality {QUALITY}: {len(frame) / 1000:.0f} kB per frame")
    print(f"reader (read + hygiene): {reader_cost(args.frames, args.repeats):.3f} CPU ms/frame"
          f"; one copy of the frame: {copy_cost(frame):.3f} ms", flush=True)
    if args.segmented:
        cost = reader_cost(args.segmented, args.repeats, segmented=True)
        print(f"reader, 30 frames/s in 1448-byte segments: {cost:.3f} CPU ms/frame "
              f"({cost * FPS:.1f} ms/s)", flush=True)
    if args.idle:
        print(f"service idle, 720p30 q{QUALITY} HTTP MJPEG camera, no client: "
              f"{idle_cpu(args.seconds):.1f} CPU ms/s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
