"""``--device-name`` values as camera sources, the way the SDK example reads them.

The example hands each value to OpenCV, which opens indexes, device paths, video files and
stream URLs alike. Here each value becomes the matching kind of source:

| value | kind |
|---|---|
| ``0``, ``/dev/video0``, ``/dev/v4l/by-id/...``, a udev symlink, a by-id file name | ``v4l2`` |
| an existing regular file, or a name with a video extension (``clip.avi``) | ``file`` |
| ``http://`` / ``https://`` (MJPEG stream or JPEG snapshot) | ``url`` (native JPEG) |
| ``rtsp://`` and any other ``scheme://`` | ``url`` through FFmpeg |
| ``synthetic`` / ``synthetic:NAME`` | ``synthetic`` (test pattern) |

Source names follow the example: an index ``N`` gives ``videoN``, anything else the part
after the last ``/`` (``/dev/video0`` -> ``video0``, ``clip.avi``, ``stream.mjpg``). A URL is
named from its path without credentials (its host when the path is empty). Characters a
source name cannot hold become ``-``; repeated names get ``-2``, ``-3``.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Dict, Iterable, List

from camera_service.config.model import SourceConfig
from camera_service.core.redaction import split_url
from camera_service.sources.base import SourceSettings

_LOG = logging.getLogger(__name__)
VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mjpg",
                              ".mjpeg", ".mpg", ".mpeg", ".ts", ".h264", ".h265", ".flv",
                              ".wmv", ".ogv"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_NAME = 63


def is_url(device: str) -> bool:
    return bool(_SCHEME.match(device))


def source_kind(device: str) -> str:
    """``v4l2``, ``file``, ``url`` or ``synthetic`` for a ``--device-name`` value."""
    if device == "synthetic" or device.startswith("synthetic:"):
        return "synthetic"
    if is_url(device):
        return "url"
    if device.isdigit() or device.startswith("/dev/"):
        return "v4l2"
    if os.path.isfile(device):
        return "file"
    if os.path.splitext(device)[1].lower() in VIDEO_EXTENSIONS:
        return "file"  # not there yet: listed and faulted until it appears
    return "v4l2"


def looks_like_camera(token: str) -> bool:
    """Whether ``token`` names a camera rather than a robot host (used to tell the robot's
    hostname from the end of a ``--device-name A B`` list)."""
    return (source_kind(token) != "v4l2" or token.isdigit() or "/" in token
            or "video" in token.lower() or os.path.exists(token))


def example_name(device: str) -> str:
    """The image source name the SDK example gives ``device`` (before sanitizing)."""
    if device.isdigit():
        return f"video{int(device)}"
    if is_url(device):
        rest = split_url(device).rest
        host, _, path = rest.partition("/")
        base = path.rstrip("/").rsplit("/", 1)[-1] if path.strip("/") else ""
        return base or host.rsplit("@", 1)[-1].split(":", 1)[0]
    return device.rstrip("/").rsplit("/", 1)[-1]


def sanitize_name(name: str) -> str:
    """``name`` made a valid source name (letters, digits, ``-``, ``_``, ``.``; up to 63)."""
    cleaned = _INVALID.sub("-", name).strip("-.")[:MAX_NAME].strip("-.")
    return cleaned or "camera"


def device_source(device: str) -> SourceConfig:
    """One ``--device-name`` value as a source entry (no size or codec applied yet)."""
    kind = source_kind(device)
    if kind == "synthetic":
        return SourceConfig("synthetic", SourceSettings(device.partition(":")[2] or "synthetic"))
    raw = example_name(device)
    name = sanitize_name(raw)
    if name != raw:
        _LOG.info("camera %s is listed as image source %r (a source name cannot hold %r)",
                  split_url(device).bare if kind == "url" else device, name, raw)
    options: Dict[str, Any]
    if kind == "url":
        options = {"url": device}
    elif kind == "file":
        options = {"path": device}
    else:
        options = {"device": int(device) if device.isdigit() else device}
    return SourceConfig(kind, SourceSettings(name, options=options))


def device_sources(devices: Iterable[str]) -> List[SourceConfig]:
    """Source entries for ``devices`` in order, with repeated names made unique."""
    entries, seen = [], set()
    for device in devices:
        entry = device_source(device)
        base, number = entry.settings.name, 1
        while entry.settings.name in seen:
            number += 1
            entry.settings.name = f"{base[:MAX_NAME - 4]}-{number}"
        seen.add(entry.settings.name)
        entries.append(entry)
    return entries
