"""Network cameras: HTTP(S) MJPEG streams and snapshot URLs, RTSP and other FFmpeg URLs.

Options (``camera_service.schema.sources.UrlOptions``):
- ``url`` (required): ``http://[user:pass@]host[:port]/path`` for MJPEG or JPEG snapshots,
  ``rtsp://[user:pass@]host[:port]/path`` for RTSP (H.264/H.265/MJPEG via FFmpeg).
  Any other URL FFmpeg opens works through FFmpeg too (``udp://``, ``file:///...``).
- ``reader``: ``auto`` (default: ``mjpeg`` for http/https, ``ffmpeg`` otherwise), ``mjpeg``
  (JPEG bytes passed through untouched: native JPEG) or ``ffmpeg`` (decoded to pixels).
- ``timeout`` (seconds, default 5): connecting and waiting for each frame; a camera silent
  for longer is reported as failed and reconnected by the capture loop.
- ``rtsp_transport``: ``tcp`` (default; survives packet loss) or ``udp``. OpenCV hands it to
  FFmpeg through the process environment, set once at start (``process_env``): every url
  source of one service must use the same.
- ``verify_tls`` (bool, default true): check the HTTPS certificate (IP cameras often have
  self-signed ones: set false for those).

The common ``fps`` applies to snapshot URLs only (how often to fetch, default 5); streams run
at the camera's rate and size. Credentials embedded in ``url`` never appear in logs or
errors. ``open`` raises ``SourceUnavailable`` while the camera is unreachable and ``read``
raises ``SourceError`` when the stream drops; the capture loop reconnects.

Acquisition time (``Frame.capture_time``, wall-clock seconds):
- HTTP MJPEG streams (plain HTTP, Linux): the kernel's receive time (``SO_TIMESTAMPNS``) of
  the network segment that brought the first byte of the frame's JPEG; when the reading
  thread runs late, the kernel has merged that segment with the ones that came while it
  waited (at most 17 segments; 64 KiB on loopback) and tells the newest one's time - never
  the late read's (``url_mjpeg``, ``multipart_reader``, ``socket_times``);
- HTTPS and chunked streams, and the bytes that came with the HTTP head (part of the first
  frame): the wall clock as the read that brought that first byte returned (it includes the
  thread's scheduling delay);
- snapshot URLs: the wall clock once the response's head was read;
- FFmpeg URLs (RTSP...): when FFmpeg handed the decoded frame over.

The mjpeg reader passes JPEG through untouched and never decodes what a camera sends: a
frame in another image format (a PNG labelled ``image/jpeg``...) is refused with a line
naming the format (``camera_limits.describe_non_jpeg``), whatever size its header declares.
The stream's size comes from the first frame's JPEG header.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from typing import Optional, Sequence, Tuple

import cv2  # FFmpeg's log level and capture options: camera_service.core.process_env
import numpy as np

from camera_service.core.errors import (
    ConfigError,
    CredentialsRefused,
    SourceError,
    SourceUnavailable,
)
from camera_service.core.jpeg import jpeg_size
from camera_service.core.jpeg_quality import QualityEstimator
from camera_service.core.redaction import normalize_url, redact_url
from camera_service.schema.sources import UrlOptions, read_options
from camera_service.sources import register, rtsp_probe
from camera_service.sources.base import CameraSource, Frame, SourceInfo, SourceSettings
from camera_service.sources.camera_limits import describe_non_jpeg
from camera_service.sources.options import check_positive_settings
from camera_service.sources.pacing import FramePacer
from camera_service.sources.url_mjpeg import HttpJpegStream, StreamError

log = logging.getLogger(__name__)

DEFAULT_SNAPSHOT_FPS = 5.0
def rtsp_transport_of(sources: Sequence[CameraSource]) -> str:
    """The one RTSP transport of the ``url`` sources among ``sources`` (``tcp`` when there
    are none). Raises ``ConfigError`` when they ask for different ones."""
    wanted = {source.rtsp_transport for source in sources if isinstance(source, UrlSource)}
    if len(wanted) > 1:
        raise ConfigError("rtsp_transport", "every url source must use the same (FFmpeg "
                          "takes it per process); found " + " and ".join(sorted(wanted)))
    return wanted.pop() if wanted else "tcp"


def _parse_url(url: str) -> str:
    if not url.strip():
        raise ConfigError("url", "is required: the camera's stream address, e.g. "
                          "rtsp://user:pass@192.168.50.20/stream1")
    url = normalize_url(url.strip())  # credentials found and encoded before any parsing
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as err:
        raise ConfigError("url", f"{redact_url(url)} is not a valid URL ({err})") from None
    if not parts.scheme or not (parts.hostname or parts.scheme.lower() == "file"):
        raise ConfigError("url", f"{redact_url(url)} needs a scheme and a host, e.g. "
                          "http://192.168.50.20/video.mjpg")
    return url


@register("url")
class UrlSource(CameraSource):
    """A network camera (see module doc). ``open``/``read``/``close`` from one thread."""

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        options = read_options(UrlOptions, settings.options)
        self.url = _parse_url(options.url)
        self.shown_url = redact_url(self.url)
        scheme = urllib.parse.urlsplit(self.url).scheme.lower()
        reader = options.reader
        if reader == "auto":
            reader = "mjpeg" if scheme in ("http", "https") else "ffmpeg"
        if reader == "mjpeg" and scheme not in ("http", "https"):
            raise ConfigError("reader", f"mjpeg reads http(s) URLs only, not {scheme}://; "
                              "use reader: ffmpeg")
        self.reader = reader
        self.timeout = float(options.timeout)
        self.rtsp_transport = options.rtsp_transport
        self.verify_tls = options.verify_tls
        check_positive_settings(settings, ("fps",))
        self._stream: Optional[HttpJpegStream] = None
        self._capture: Optional[cv2.VideoCapture] = None
        self._pacer: Optional[FramePacer] = None
        self._first: Optional[Frame] = None
        self._size: Optional[Tuple[int, int]] = None  # of the open MJPEG stream
        self._sequence = 0
        self._quality = QualityEstimator(settings.name)

    def describe(self) -> str:
        return f"url {self.shown_url} ({self.reader})"

    # -- open -----------------------------------------------------------------------------
    def open(self) -> SourceInfo:
        self.close()
        try:
            info = self._open_mjpeg() if self.reader == "mjpeg" else self._open_ffmpeg()
        except BaseException:
            self.close()
            raise
        log.debug("%s: %s", self.name, info.detail)  # the capture loop logs the open once
        return info

    def _open_mjpeg(self) -> SourceInfo:
        try:
            self._stream = HttpJpegStream(self.url, self.timeout, self.verify_tls)
            kind = "JPEG snapshots" if self._stream.is_snapshot else "MJPEG stream"
            self._quality.opened(f"{kind} from {self.shown_url}")
            first = self._jpeg_frame(self._stream.next_jpeg())
        except StreamError as err:
            unavailable = CredentialsRefused if err.refused else SourceUnavailable
            raise unavailable(str(err)) from None
        self._first = first
        fps = float(self.settings.fps or 0.0)
        if self._stream.is_snapshot:
            fps = float(self.settings.fps or DEFAULT_SNAPSHOT_FPS)
            self._pacer = FramePacer(fps)
        return SourceInfo(width=first.width, height=first.height, fps=fps, native_jpeg=True,
                          detail=f"{kind} {first.width}x{first.height} from {self.shown_url}, "
                                 "native JPEG")

    def _open_ffmpeg(self) -> SourceInfo:
        timeout_ms = int(self.timeout * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        self._capture = capture
        if not capture.isOpened():
            raise self._open_failure()
        # the size the stream declares, refused before FFmpeg decodes a frame of it
        self.declared_size_check(int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
                                 int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0))
        ok, image = capture.read()
        if not ok or image is None:
            raise SourceUnavailable(f"stream {self.shown_url} opened but sent no frame within "
                                    f"{self.timeout:g} s")
        self._first = self._pixel_frame(image)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = fps if 0 < fps < 1000 else 0.0
        height, width = image.shape[:2]
        return SourceInfo(width=width, height=height, fps=fps, native_jpeg=False,
                          detail=f"FFmpeg {width}x{height} @{fps:g} fps from {self.shown_url}")

    def _open_failure(self) -> SourceUnavailable:
        """The one line for an FFmpeg URL that did not open: for RTSP, the step that failed,
        asked of the camera itself (``rtsp_probe``); refused credentials retry slowly."""
        if not self.url.lower().startswith(("rtsp://", "rtsps://")):
            return SourceUnavailable(f"FFmpeg cannot open {self.shown_url}: check the URL")
        found = rtsp_probe.diagnose(self.url, self.shown_url, self.timeout)
        unavailable = CredentialsRefused if found.step == "authenticate" else SourceUnavailable
        return unavailable(f"cannot open RTSP stream {self.shown_url} ({found.step}): "
                           f"{found.message}")

    # -- read -----------------------------------------------------------------------------
    def read(self) -> Frame:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        if self._stream is not None:
            if self._pacer is not None:
                self._pacer.wait()
            try:
                return self._jpeg_frame(self._stream.next_jpeg())
            except StreamError as err:
                raise SourceError(str(err)) from None
        if self._capture is not None:
            ok, image = self._capture.read()
            if not ok or image is None:
                raise SourceError(f"stream from {self.shown_url} stopped (dropped or silent "
                                  f"for {self.timeout:g} s)")
            return self._pixel_frame(image)
        raise SourceError(f"camera {self.name!r} is not open")

    def _jpeg_frame(self, jpeg: bytes) -> Frame:
        """A frame of the camera's bytes, untouched, stamped with the arrival of its first
        byte (see the module doc). Its size is the stream's (from the first frame's
        header); the capture loop's frame hygiene drops frames that disagree. Nothing here
        decodes the bytes."""
        stream = self._stream
        if self._size is None:
            size = jpeg_size(jpeg)
            if size is None:
                what = (describe_non_jpeg(jpeg) if not jpeg.startswith(b"\xff\xd8") else
                        "a JPEG without a frame header")
                raise StreamError(f"camera at {self.shown_url} sent {what}, not a JPEG frame: "
                                  "set the camera to MJPEG/JPEG, or use reader: ffmpeg")
            self._size = size
        self._sequence += 1
        arrival = stream.arrival if stream is not None and stream.arrival else time.time()
        return Frame(self._sequence, arrival, self._size[0], self._size[1], jpeg=jpeg,
                     jpeg_quality=self._quality.quality(jpeg))

    def _pixel_frame(self, image: np.ndarray) -> Frame:
        self._sequence += 1
        return Frame(self._sequence, time.time(), int(image.shape[1]), int(image.shape[0]),
                     pixels=image)

    # -- close ----------------------------------------------------------------------------
    def close(self) -> None:
        stream, self._stream = self._stream, None
        capture, self._capture = self._capture, None
        self._first = None
        self._size = None
        self._pacer = None
        if stream is not None:
            stream.close()
        if capture is not None:
            capture.release()
