"""A video file played in a loop at its own frame rate (demos, reproducible tests).

Options (``camera_service.schema.sources.FileOptions``):
- ``path`` (required): a video file OpenCV can read (e.g. MJPG in .avi, H.264 in .mp4).
- ``loop`` (default true): start again at the end; false makes the end of the file a
  source error (the capture loop then reopens it, which also starts it again).

The common ``fps`` overrides the file's own rate (used when the file does not state one).
Frames are delivered as pixels (the file is decoded). Frame times: the wall clock when the
frame was decoded (a file has no capture time of its own).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Optional

import cv2
import numpy as np

from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.schema.sources import FileOptions, read_options
from camera_service.sources import register
from camera_service.sources.base import CameraSource, Frame, SourceInfo, SourceSettings
from camera_service.sources.options import check_positive_settings
from camera_service.sources.pacing import FramePacer

log = logging.getLogger(__name__)

FALLBACK_FPS = 30.0


@register("file")
class FileSource(CameraSource):
    """Plays ``path`` in a loop, paced at the file's frame rate. One thread."""

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        options = read_options(FileOptions, settings.options)
        if not options.path.strip():
            raise ConfigError("path", "is required: the video file to play, e.g. "
                              "/data/demo.avi")
        self.path = os.path.expanduser(options.path.strip())
        self.loop = options.loop
        check_positive_settings(settings, ("fps",))
        self._capture: Optional[cv2.VideoCapture] = None
        self._pacer: Optional[FramePacer] = None
        self._sequence = 0
        self._frames_in_pass = 0

    def describe(self) -> str:
        return f"file {self.path}"

    def open(self) -> SourceInfo:
        self.close()
        if not os.path.isfile(self.path):
            raise SourceUnavailable(f"no video file at {self.path}: fix 'path' in the config")
        capture = cv2.VideoCapture(self.path)
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(f"cannot play {self.path}: not a video format OpenCV "
                                    "reads (try MJPG in .avi or H.264 in .mp4)")
        file_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = float(self.settings.fps or (file_fps if 0 < file_fps < 1000 else FALLBACK_FPS))
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._capture, self._pacer, self._frames_in_pass = capture, FramePacer(fps), 0
        detail = f"{os.path.basename(self.path)} {width}x{height} @{fps:g} fps" + (
            ", looped" if self.loop else "")
        log.info("%s: %s", self.name, detail)
        return SourceInfo(width=width, height=height, fps=fps, native_jpeg=False,
                          detail=detail)

    def read(self) -> Frame:
        if self._capture is None or self._pacer is None:
            raise SourceError(f"file source {self.name!r} is not open")
        image = self._next_image(self._capture)
        self._pacer.wait()
        self._sequence += 1
        return Frame(self._sequence, time.time(), int(image.shape[1]), int(image.shape[0]),
                     pixels=image)

    def _next_image(self, capture: cv2.VideoCapture) -> np.ndarray:
        ok, image = capture.read()
        if ok and image is not None:
            self._frames_in_pass += 1
            return image
        if not self.loop:
            raise SourceError(f"{self.path} ended (loop is off)")
        if self._frames_in_pass == 0:
            raise SourceError(f"{self.path} has no readable frames")
        # Rewind; some containers cannot seek, so reopen when rewinding does not work.
        self._frames_in_pass = 0
        if not capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
            capture.release()
            capture = cv2.VideoCapture(self.path)
            self._capture = capture
        ok, image = capture.read()
        if not ok or image is None:
            raise SourceError(f"{self.path} could not be played again from the start")
        self._frames_in_pass = 1
        return image

    def close(self) -> None:
        capture, self._capture = self._capture, None
        self._pacer = None
        if capture is not None:
            capture.release()
