"""Playing a clip file in a browser: the JPEGs of its MJPEG track, as stored, one by one.

Browsers do not play MJPEG in Matroska, but an ``<img>`` shows ``multipart/x-mixed-replace``
(each part replaces the picture). ``ClipFile`` demuxes the clip with PyAV and never decodes:
the packets of its MJPEG track are the JPEGs the clips plugin stored (an MJPEG camera's own
bytes). A 16-bit source's clip has the 8-bit view as its MJPEG track (track 0); its FFV1 track
of raw values is not read. ``paced`` releases each JPEG at its timestamp relative to the first.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Tuple

import av

from viewer.clips import ClipSummary, ClipUnreadable

BOUNDARY = "clipframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
END = f"--{BOUNDARY}--\r\n".encode()


class ClipFile:
    """An open clip file (context manager). Raises ``ClipUnreadable`` when the file is not a
    container PyAV reads or has no MJPEG track."""

    def __init__(self, path: str) -> None:
        try:
            self._container: Any = av.open(path)
        except av.error.FFmpegError as err:
            raise ClipUnreadable(f"the clip is not a file PyAV reads: {err}") from None
        tracks = [s for s in self._container.streams.video if s.codec_context.name == "mjpeg"]
        if not tracks:
            self._container.close()
            raise ClipUnreadable("the clip has no MJPEG track to play")
        self._track = tracks[0]

    def __enter__(self) -> ClipFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def jpegs(self) -> Iterator[Tuple[float, bytes]]:
        """(seconds, JPEG bytes) of every frame of the MJPEG track, in file order; raises
        PyAV's ``FFmpegError`` for a file damaged past its start."""
        base: Fraction = self._track.time_base or Fraction(1, 1000)
        for packet in self._container.demux(self._track):
            if packet.size == 0 or packet.pts is None:
                continue  # the demuxer's flush packet
            yield float(packet.pts * base), bytes(packet)


def summarize(path: str) -> ClipSummary:
    """Frames and duration (first to last frame) of the clip at ``path`` (one demux pass)."""
    count, first, last = 0, 0.0, 0.0
    with ClipFile(path) as clip:
        for seconds, _jpeg in clip.jpegs():
            if count == 0:
                first = seconds
            count, last = count + 1, seconds
    return ClipSummary(count, round(last - first, 3))


def part(jpeg: bytes) -> bytes:
    """One part of the multipart stream: its headers and the JPEG."""
    head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(jpeg)}\r\n\r\n").encode()
    return head + jpeg + b"\r\n"


def paced(frames: Iterable[Tuple[float, bytes]], stop_wait: Callable[[float], bool],
          clock: Callable[[], float] = time.monotonic) -> Iterator[bytes]:
    """The JPEGs of ``frames``, each released when its time (relative to the first frame)
    has come on ``clock``; ``stop_wait(seconds)`` waits and answers True to end early (the
    viewer stopping)."""
    started = None
    for seconds, jpeg in frames:
        now = clock()
        if started is None:
            started = now - seconds
        delay = started + seconds - now
        if delay > 0 and stop_wait(delay):
            return
        yield jpeg
