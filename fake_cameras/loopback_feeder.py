"""Feed MJPEG frames into a v4l2loopback node the way a UVC camera delivers them.

A UVC camera's driver hands each frame to readers as one buffer whose ``bytesused`` is what
the camera sent (padding and damage included). ``LoopbackFeeder`` does the same through a
v4l2loopback output node: it declares ``MJPG`` at the frame set's size and rate
(``VIDIOC_S_FMT`` and ``VIDIOC_S_PARM`` on the output side), then ``write``s one frame per
period, cycling through a prepared frame set. v4l2loopback turns each write into one capture
buffer with ``bytesused`` = the write's length.

Frame sets are made on the host (``fake_cameras.uvc_frames`` shapes each frame: no DHT,
AVI1, padding, truncated, ...) and stored with ``write_frame_set`` as one file: a JSON line
(size, rate, each frame's length and quirk) followed by the frames' bytes. The feeder itself
uses the standard library only (unless it stamps), so it starts fast in the emulated test
VM.

Signals: SIGUSR2 pauses writing (a camera that stalls: the node stays open, no frames come)
and, sent again, resumes (the counts at every pause are kept: a consistent point to compare
a reader's counts with); SIGHUP reads the frame set file again and continues with it (the
camera changes its habits without a gap); every pause and SIGTERM/SIGINT first writes the
statistics file (``--stats``: frames written in total and per quirk), which is also
refreshed every second.

``--stamp-quality Q`` makes each write carry its own time: the set's frames are decoded once
and every write is a fresh JPEG at quality Q of the next one with the wall-clock time of the
write drawn in (``fake_cameras.time_stamp``; see ``fake_cameras.stamped_frames``), counted as
quirk ``stamped``. Only this option needs numpy and OpenCV (the service's venv has them).

CLI (in the VM)::

    python -m fake_cameras.loopback_feeder --device /dev/loop-cameras/loop-mjpeg-a \\
        --frames /mnt/xfer/a.frames --stats /mnt/xfer/a.stats.json
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

BUF_TYPE_VIDEO_OUTPUT = 2
FIELD_NONE = 1
COLORSPACE_JPEG = 7
PIX_FMT_MJPEG = int.from_bytes(b"MJPG", "little")
STAMPED = "stamped"  # the quirk a stamped write is counted as


class _PixFormat(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in (
        "width", "height", "pixelformat", "field", "bytesperline", "sizeimage", "colorspace",
        "priv", "flags", "ycbcr_enc", "quantization", "xfer_func")]


class _FormatUnion(ctypes.Union):
    # 200 bytes, 8-byte aligned (the kernel's union holds pointers): type sits at offset 0,
    # the union at 8, 208 bytes in all on 64-bit machines.
    _fields_ = [("pix", _PixFormat), ("raw", ctypes.c_uint8 * 200), ("align", ctypes.c_uint64)]


class _Format(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("fmt", _FormatUnion)]


class _Fract(ctypes.Structure):
    _fields_ = [("numerator", ctypes.c_uint32), ("denominator", ctypes.c_uint32)]


class _OutputParm(ctypes.Structure):
    _fields_ = [("capability", ctypes.c_uint32), ("outputmode", ctypes.c_uint32),
                ("timeperframe", _Fract), ("extendedmode", ctypes.c_uint32),
                ("writebuffers", ctypes.c_uint32), ("reserved", ctypes.c_uint32 * 4)]


class _ParmUnion(ctypes.Union):
    _fields_ = [("output", _OutputParm), ("raw", ctypes.c_uint8 * 200)]


class _StreamParm(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("parm", _ParmUnion)]


def _iowr(number: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("V") << 8) | number


VIDIOC_S_FMT = _iowr(5, ctypes.sizeof(_Format))
VIDIOC_S_PARM = _iowr(22, ctypes.sizeof(_StreamParm))


@dataclass(frozen=True)
class FrameSet:
    """Frames to cycle through (``frames[i]`` as sent, ``quirks[i]`` its shape) and the
    stream's declared ``width`` x ``height`` at ``fps``."""

    width: int
    height: int
    fps: float
    frames: Tuple[bytes, ...]
    quirks: Tuple[str, ...]


def write_frame_set(path: str, frame_set: FrameSet) -> None:
    """Store ``frame_set`` in ``path`` (see module doc)."""
    header = {"width": frame_set.width, "height": frame_set.height, "fps": frame_set.fps,
              "lengths": [len(frame) for frame in frame_set.frames],
              "quirks": list(frame_set.quirks)}
    with open(path, "wb") as out:
        out.write(json.dumps(header).encode() + b"\n")
        for frame in frame_set.frames:
            out.write(frame)


def read_frame_set(path: str) -> FrameSet:
    """The frame set stored in ``path`` by ``write_frame_set``."""
    with open(path, "rb") as handle:
        header = json.loads(handle.readline())
        frames = tuple(handle.read(length) for length in header["lengths"])
    if any(len(frame) != length for frame, length in zip(frames, header["lengths"])):
        raise ValueError(f"{path} is shorter than its header says")
    return FrameSet(header["width"], header["height"], float(header["fps"]), frames,
                    tuple(header["quirks"]))


class LoopbackFeeder:
    """Writes ``frame_set`` into the v4l2loopback node ``device`` at the set's rate.

    ``open`` declares the format; ``run`` writes until ``stop`` is called (from a signal
    handler or another thread); ``pause``/``resume`` stall and restart the stream. ``stats``
    counts frames written, per quirk. After a stall it continues at the set rate from the
    moment it resumes (no burst to catch up, like a camera). With ``stamp_quality`` each write
    is the next frame re-encoded at that quality with the write's time drawn in (module doc);
    ``ValueError`` if no frame of the set decodes.
    """

    def __init__(self, device: str, frame_set: FrameSet, stats_path: Optional[str] = None,
                 frames_path: Optional[str] = None, stamp_quality: Optional[int] = None) -> None:
        self.device = device
        self.stamp_quality = stamp_quality
        self._stamped: Optional[Callable[[int], bytes]] = None
        self._use(frame_set)
        self.stats_path = stats_path
        self.frames_path = frames_path  # read again on ``reload``
        self._reload = threading.Event()
        self.written: Counter = Counter()
        self.at_pauses: List[Dict[str, object]] = []  # the counts at each pause
        self._fd: Optional[int] = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def open(self) -> None:
        fd = os.open(self.device, os.O_RDWR)
        try:
            fmt = _Format(type=BUF_TYPE_VIDEO_OUTPUT)
            pix = fmt.fmt.pix
            pix.width, pix.height = self.frame_set.width, self.frame_set.height
            pix.pixelformat, pix.field, pix.colorspace = PIX_FMT_MJPEG, FIELD_NONE, \
                COLORSPACE_JPEG
            pix.sizeimage = max(len(frame) for frame in self.frame_set.frames)
            if self._stamped is not None:  # fresh encodes: room for any JPEG of the size
                pix.sizeimage = max(pix.sizeimage, pix.width * pix.height * 3)
            fcntl.ioctl(fd, VIDIOC_S_FMT, fmt)
            parm = _StreamParm(type=BUF_TYPE_VIDEO_OUTPUT)
            parm.parm.output.timeperframe = _Fract(1000, round(self.frame_set.fps * 1000))
            fcntl.ioctl(fd, VIDIOC_S_PARM, parm)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def run(self) -> None:
        """Write frames until ``stop``; the statistics file is refreshed every second."""
        if self._fd is None:
            raise RuntimeError("open() first")
        period = 1.0 / self.frame_set.fps
        frames, quirks = self.frame_set.frames, self.frame_set.quirks
        index, due, saved = 0, time.monotonic(), time.monotonic()
        while not self._stop.is_set():
            if self._reload.is_set() and self.frames_path is not None:
                self._reload.clear()
                self._use(read_frame_set(self.frames_path))
                frames, quirks, index = self.frame_set.frames, self.frame_set.quirks, 0
            if not self._running.is_set():
                self.at_pauses.append(self._counts())
                self.save_stats()
                while not self._running.wait(0.2) and not self._stop.is_set():
                    pass
                due = time.monotonic()
                continue
            if self._stamped is not None:
                os.write(self._fd, self._stamped(index))
                self.written[STAMPED] += 1
            else:
                os.write(self._fd, frames[index])
                self.written[quirks[index]] += 1
            index = (index + 1) % len(frames)
            now = time.monotonic()
            due = max(due + period, now - period)  # late by more than a frame: no burst
            if now - saved >= 1.0:
                self.save_stats()
                saved = now
            if due > now:
                self._stop.wait(due - now)
        self.save_stats()

    def _use(self, frame_set: FrameSet) -> None:
        """Feed ``frame_set`` from now on (stamped, if stamping)."""
        self.frame_set = frame_set
        if self.stamp_quality is not None:
            self._stamped = _stamper(frame_set, self.stamp_quality)

    def reload(self) -> None:
        """Continue with the frame set in ``frames_path`` from the next frame on."""
        self._reload.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def toggle(self) -> None:
        (self.resume if not self._running.is_set() else self.pause)()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _counts(self) -> Dict[str, object]:
        return {"written": sum(self.written.values()), "by_quirk": dict(self.written),
                "at": time.time()}

    def stats(self) -> Dict[str, object]:
        """Frames written (total, ``by_quirk``) as of ``at`` (wall clock), whether paused,
        and the same counts as they were at each pause (``at_pauses``)."""
        return {**self._counts(), "paused": not self._running.is_set(),
                "at_pauses": list(self.at_pauses)}

    def save_stats(self) -> None:
        if self.stats_path is None:
            return
        temporary = f"{self.stats_path}.tmp"
        with open(temporary, "w") as out:
            json.dump(self.stats(), out)
        os.replace(temporary, self.stats_path)


def _stamper(frame_set: FrameSet, quality: int) -> Callable[[int], bytes]:
    """What makes frame ``index`` of a stamped feed of ``frame_set`` (module doc)."""
    import cv2  # only a stamping feeder needs them
    import numpy as np

    from fake_cameras.stamped_frames import StampedFrames

    pictures = [cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)
                for frame in frame_set.frames]
    pictures = [p for p in pictures
                if p is not None and p.shape[:2] == (frame_set.height, frame_set.width)]
    if not pictures:
        raise ValueError(f"no frame of the {frame_set.width}x{frame_set.height} set decodes "
                         "at that size; stamping needs at least one")
    return StampedFrames(pictures, quality)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fake_cameras.loopback_feeder",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", required=True, help="v4l2loopback node (or its symlink)")
    parser.add_argument("--frames", required=True, help="frame set file (write_frame_set)")
    parser.add_argument("--stats", help="statistics file (JSON), refreshed every second")
    parser.add_argument("--stamp-quality", type=int, choices=range(1, 101), metavar="1-100",
                        help="draw each write's time into it, re-encoding at this quality")
    args = parser.parse_args(argv)
    try:
        feeder = LoopbackFeeder(args.device, read_frame_set(args.frames), args.stats,
                                args.frames, args.stamp_quality)
        feeder.open()
    except (OSError, ValueError) as err:
        print(f"loopback_feeder: cannot feed {args.device}: {err}", file=sys.stderr)
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: feeder.stop())
    signal.signal(signal.SIGUSR2, lambda *_: feeder.toggle())
    signal.signal(signal.SIGHUP, lambda *_: feeder.reload())
    frame_set = feeder.frame_set
    print(f"loopback_feeder: {args.device}: MJPG {frame_set.width}x{frame_set.height} "
          f"@{frame_set.fps:g} fps, {len(frame_set.frames)} frames", flush=True)
    try:
        feeder.run()
    finally:
        feeder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
