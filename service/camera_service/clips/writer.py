"""One clip file: Matroska with an MJPEG track, and for 16-bit sources a lossless FFV1 track.

Track 0 (``mjpeg``) holds one JPEG per frame: a camera's own JPEG bytes untouched (remuxed
as packets, never decoded or re-encoded), or for a raw source its frame encoded once through
the encode-once ``OutputCache`` (so a GetImage of the same frame shares that encode); for a
16-bit source the 8-bit view (the source's view settings). Track 1 (``ffv1``, 16-bit sources
only) holds the raw values losslessly (``gray16le``). Timestamps are the frames' capture
times in milliseconds from the first frame, so a player shows the camera's real timing.

Frames whose size differs from the clip's first frame (the camera was reopened at another
size mid-clip) are left out and counted in ``skipped``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

import av

from camera_service.capture.frame_store import StoredFrame

TIME_BASE = Fraction(1, 1000)  # Matroska's own: milliseconds
# jpeg_of(stored): the JPEG bytes track 0 holds for a frame that carries pixels.
JpegOf = Callable[[StoredFrame], bytes]


class ClipWriter:
    """Writes frames to ``path`` as they come; ``close`` finishes the file (idempotent).
    ``jpeg_of`` makes track 0's JPEG for frames without camera JPEG bytes."""

    def __init__(self, path: str, jpeg_of: JpegOf, fps: float) -> None:
        self.path = path
        self.frames = 0
        self.skipped = 0
        self._jpeg_of = jpeg_of
        self._fps = fps if fps > 0 else 30.0
        # PyAV's stream classes are typed loosely (a video stream's size and pixel format
        # are not on the base ``Stream`` type): held as Any.
        self._container: Any = None
        self._mjpeg: Any = None
        self._raw: Any = None
        self._size: tuple | None = None
        self._first_time = 0.0
        self._last_pts = -1

    @property
    def tracks(self) -> list:
        """What the file holds, for the clip's metadata."""
        tracks = [{"index": 0, "codec": "mjpeg"}]
        if self._raw is not None:
            tracks.append({"index": 1, "codec": "ffv1", "pixel_format": "gray16le",
                           "content": "the camera's 16-bit values, lossless"})
        return tracks

    def add(self, stored: StoredFrame) -> bool:
        """Append one frame; False when it was left out (another size than the first)."""
        frame = stored.frame
        if self._container is None:
            self._open(stored)
        elif (frame.width, frame.height) != self._size:
            self.skipped += 1
            return False
        pts = round((frame.capture_time - self._first_time) * 1000)
        pts = max(pts, self._last_pts + 1)  # strictly increasing, whatever the clock did
        self._last_pts = pts
        jpeg = frame.jpeg if frame.jpeg is not None else self._jpeg_of(stored)
        packet = av.Packet(jpeg)
        packet.stream = self._mjpeg
        packet.time_base = TIME_BASE
        packet.pts = packet.dts = pts
        packet.is_keyframe = True
        self._container.mux(packet)
        if self._raw is not None:
            values: Any = frame.pixels  # uint16, this machine's (little-endian) order
            picture = av.VideoFrame.from_ndarray(values, format="gray16le")
            picture.pts = pts
            picture.time_base = TIME_BASE
            for encoded in self._raw.encode(picture):
                self._container.mux(encoded)
        self.frames += 1
        return True

    def _open(self, stored: StoredFrame) -> None:
        frame = stored.frame
        self._size = (frame.width, frame.height)
        self._first_time = frame.capture_time
        rate = Fraction(self._fps).limit_denominator(1001)
        container: Any = av.open(self.path, mode="w", format="matroska")
        mjpeg: Any = container.add_stream("mjpeg", rate=rate)
        mjpeg.width, mjpeg.height = frame.width, frame.height
        mjpeg.pix_fmt = "yuvj420p"
        mjpeg.time_base = TIME_BASE
        if frame.sixteen_bit:
            raw: Any = container.add_stream("ffv1", rate=rate)
            raw.width, raw.height = frame.width, frame.height
            raw.pix_fmt = "gray16le"
            raw.time_base = TIME_BASE
            raw.codec_context.time_base = TIME_BASE
            self._raw = raw
        self._container, self._mjpeg = container, mjpeg

    def close(self) -> None:
        """Flush the encoder and finish the file (nothing written if no frame came)."""
        container, self._container = self._container, None
        if container is None:
            return
        try:
            if self._raw is not None:
                for encoded in self._raw.encode(None):
                    container.mux(encoded)
        finally:
            container.close()
