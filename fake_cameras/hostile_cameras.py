"""IP cameras that send what a careless or hostile camera sends (memory-budget and
frame-hygiene tests).

- ``jpeg_bomb_camera``: tiny 16x16 JPEG frames (under 1 KB) whose frame header declares
  30000x30000 - decoding one would take 2.5 GiB;
- ``truncated_camera``: every frame stops in the middle of its image data (no end-of-image
  marker), the way frames look after lost packets;
- ``huge_camera``: real 8000x8000 frames (a 64-megapixel camera).

Each returns a ``FakeIPCamera`` (not started); the frame bytes come from
``fake_cameras.uvc_frames``.
"""

from __future__ import annotations

from typing import Any

from fake_cameras.ip_camera import FakeIPCamera
from fake_cameras.uvc_frames import uvc_frame, with_declared_size

BOMB_SIZE = (30000, 30000)


def jpeg_bomb_camera(fps: float = 5.0, declared=BOMB_SIZE, **options: Any) -> FakeIPCamera:
    """16x16 frames declaring ``declared`` (width, height) in their header."""
    width, height = declared
    return FakeIPCamera(width=16, height=16, fps=fps,
                        shape=lambda jpeg: with_declared_size(jpeg, width, height), **options)


def truncated_camera(width: int = 640, height: int = 480, fps: float = 10.0,
                     **options: Any) -> FakeIPCamera:
    """Frames cut in the middle of their image data."""
    return FakeIPCamera(width=width, height=height, fps=fps,
                        shape=lambda jpeg: uvc_frame(jpeg, "truncated"), **options)


def huge_camera(size: int = 8000, fps: float = 1.0, **options: Any) -> FakeIPCamera:
    """Genuine ``size`` x ``size`` frames (the same picture each time: rendering 64
    megapixels per frame would take a second of CPU)."""
    return FakeIPCamera(width=size, height=size, fps=fps, still=True, **options)
