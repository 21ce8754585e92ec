"""When a camera's own JPEG bytes answer a JPEG request: the per-source passthrough policy.

Only a full-size, colour JPEG request of a camera that delivers JPEG (MJPEG USB camera, HTTP
MJPEG camera, synthetic native mode) can be answered with the camera's bytes; every other
output is made from a decode. For those requests the source's ``jpeg_passthrough`` decides:

- ``auto`` (default): always the camera's bytes, whatever the request's ``quality_percent``
  (as ustreamer and mjpg-streamer serve a camera's MJPEG). The quality a client then gets is
  the camera's (estimated from its quantization tables; set a V4L2 camera's with the
  source's ``jpeg_quality`` where it has a compression-quality control).
- ``thin-link``: the camera's bytes unless the request asks for a quality clearly below the
  camera's (at least ``THIN_LINK_MARGIN`` lower), or the camera's quality is unknown and the
  request sets one: then the frame is re-encoded at the requested quality, once per frame
  and quality for all clients (smaller images for a slow link).
- ``never``: always re-encoded at the requested quality (unset: the source's
  ``jpeg_quality``), once per frame and quality.
"""

from __future__ import annotations

from typing import Optional

DEFAULT_POLICY = "auto"
THIN_LINK_MARGIN = 10  # quality points below the camera's that count as "clearly lower"


def serves_camera_bytes(policy: str, requested_quality: float,
                        camera_quality: Optional[int]) -> bool:
    """Whether a full-size colour JPEG request at ``requested_quality`` (0 = unset) gets the
    camera's bytes under ``policy``; ``camera_quality`` None = unknown."""
    if policy == "auto":
        return True
    if policy == "never":
        return False
    if policy != "thin-link":
        raise ValueError(f"unknown passthrough policy {policy!r}")
    if requested_quality <= 0:
        return True
    if camera_quality is None:
        return False
    return requested_quality > camera_quality - THIN_LINK_MARGIN
