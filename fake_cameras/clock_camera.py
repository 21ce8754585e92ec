"""An HTTP MJPEG camera whose every frame shows the wall-clock time it is sent.

The fake IP camera (``fake_cameras.ip_camera``) serving one still test pattern with a time
stamp (``fake_cameras.time_stamp``) drawn across its top: the time each frame goes out to
the clients, in microseconds of CLOCK_REALTIME (``fake_cameras.stamped_frames``). A client on
the same machine reads the stamp back from the image it gets and subtracts it from its own
clock: glass-to-client latency.

CLI (dev and ``bench.latency``)::

    python -m fake_cameras.clock_camera --port 8082 --size 1280x720 --fps 30 --quality 90

prints one line when it serves and, when stopped (SIGINT/SIGTERM), one line with the frames
it made and how many were sent later than their stamp.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Optional, Sequence, Tuple

from camera_service.sources.synthetic import render_test_pattern

from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.stamped_frames import StampedFrames

READY = "clock camera ready: "
SUMMARY = "clock camera: "


def clock_camera(width: int, height: int, fps: float, quality: int, port: int = 0,
                 host: str = "127.0.0.1") -> Tuple[FakeIPCamera, StampedFrames]:
    """The camera (not started) and its frame maker (late counts)."""
    frames = StampedFrames([render_test_pattern(width, height, 0, 0.0)], quality)
    camera = FakeIPCamera(width, height, fps, quality, port, host, make_frame=frames)
    return camera, frames


def _size(text: str) -> Tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is not WIDTHxHEIGHT (e.g. 1280x720)") from None
    if width < 256 or height < 64:
        raise argparse.ArgumentTypeError(f"size {text} is too small for the time stamp; "
                                         "use at least 256x64")
    return width, height


def _realtime() -> str:
    """Ask for SCHED_FIFO for this process (threads started later inherit it); says what it
    got. Without it a loaded machine sends frames late, which a latency figure would then
    charge to the service."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
        return "real-time priority"
    except (AttributeError, PermissionError, OSError):
        return "normal priority (real-time refused)"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_cameras.clock_camera",
        description="Serve HTTP multipart MJPEG whose frames show the time they are sent.")
    parser.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--size", type=_size, default=(1280, 720), help="WIDTHxHEIGHT")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--quality", type=int, default=90, choices=range(1, 101),
                        metavar="1-100", help="JPEG quality")
    parser.add_argument("--realtime", action="store_true",
                        help="run at real-time priority (SCHED_FIFO 20, needs root) so the "
                             "frames go out on time on a loaded machine")
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("--host must be a loopback address (127.x.x.x)")
    priority = _realtime() if args.realtime else "normal priority"
    width, height = args.size
    camera, frames = clock_camera(width, height, args.fps, args.quality, args.port, args.host)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        camera.start()
    except OSError as err:
        print(f"clock camera: cannot listen on {args.host}:{args.port}: {err.strerror}; "
              "choose another --port (0 picks a free one)", file=sys.stderr)
        return 1
    with camera:
        print(f"{READY}{camera.url} ({width}x{height} @{args.fps:g} fps, "
              f"quality {args.quality}, {priority})", flush=True)
        stopping.wait()
    print(SUMMARY + frames.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
