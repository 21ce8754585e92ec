"""The process environment the service's libraries read, set in one place.

OpenCV, FFmpeg (inside OpenCV) and gRPC take some settings only from environment variables,
read when they load or first open something. ``apply_defaults`` sets them once, from the
package's first import (``camera_service/__init__``), before any of those libraries loads; a
value already in the environment wins. ``set_rtsp_transport`` sets FFmpeg's capture options
once when the service starts, before any capture thread runs: the environment is never
changed while other threads may read it (``setenv`` is not thread-safe).
"""

from __future__ import annotations

import os

DEFAULTS = {
    # gRPC's C core logs connection events (e.g. "Got goaway" on every robot reboot) on
    # stderr in its own format; the service's log already reports what matters, once.
    "GRPC_VERBOSITY": "ERROR",
    # OpenCV prints a WARN line on every failed reopen of an absent camera; the capture loop
    # logs such a failure once.
    "OPENCV_LOG_LEVEL": "ERROR",
    # FFmpeg would print its own error on every reconnect attempt of an IP camera.
    "OPENCV_FFMPEG_LOGLEVEL": "-8",
    # OpenCV's V4L2 wait for a frame (read once, at the first wait); its default of 10 s
    # would hide an unplugged camera.
    "OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT": "2",
    # The most pixels cv2.imdecode allocates for one image (OpenCV's default is 2**30, 3 GiB
    # of BGR): a backstop behind the camera-bytes guards (sources.camera_limits, the frame
    # budget), which refuse huge images from their headers before anything decodes them.
    # 2**26 is 8192x8192, over the largest camera frame the service serves.
    "OPENCV_IO_MAX_IMAGE_PIXELS": str(1 << 26),
}
FFMPEG_OPTIONS = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


def apply_defaults() -> None:
    """Set every ``DEFAULTS`` entry not already in the environment."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def set_rtsp_transport(transport: str) -> None:
    """FFmpeg's RTSP transport (``tcp`` or ``udp``) for every stream this process opens.
    Call before capture threads start; writes the environment only when the value changes."""
    wanted = f"rtsp_transport;{transport}"
    if os.environ.get(FFMPEG_OPTIONS) != wanted:
        os.environ[FFMPEG_OPTIONS] = wanted
