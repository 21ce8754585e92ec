"""A JPEG frame fetched through the robot for a page's live preview, the query that asks for
one (``/api/frame?service=S&source=N&quality=Q&resize=R``) and the headers sent with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from camera_service.web.errors import BadRequest

DEFAULT_QUALITY = 75


@dataclass(frozen=True)
class JpegFrame:
    """One JPEG image from ``GetImage``. ``acquisition_time`` is local wall-clock seconds
    (converted from robot time with time sync), None while time sync is not established."""

    jpeg: bytes
    cols: int
    rows: int
    rpc_seconds: float
    acquisition_time: float | None
    # 16-bit sources (thermal, depth): the raw range the JPEG view shows, and the source's
    # depth_scale (raw value of one metre; 0 for a thermal source).
    value_range: Tuple[int, int] | None = None
    depth_scale: float = 0.0


def parse_frame_query(query: Dict[str, list]) -> Tuple[str, str, int, float]:
    """(service, source, quality, resize) from a parsed query string. Raises ``BadRequest``."""

    def single(key: str, default: str | None = None) -> str:
        values = query.get(key)
        if not values or not values[0]:
            if default is None:
                raise BadRequest(f"missing query parameter {key!r}")
            return default
        return values[0]

    service, source = single("service"), single("source")
    try:
        quality = int(single("quality", str(DEFAULT_QUALITY)))
        resize = float(single("resize", "1"))
    except ValueError:
        raise BadRequest("quality must be an integer and resize a number") from None
    if not 1 <= quality <= 100:
        raise BadRequest(f"quality {quality} is outside 1..100")
    if not 0 < resize <= 1:
        raise BadRequest(f"resize {resize} is outside (0, 1]")
    return service, source, quality, resize


def frame_headers(frame: JpegFrame, now: float) -> Dict[str, str]:
    """The informational headers sent with a frame (see module doc)."""
    headers = {
        "X-Frame-Cols": str(frame.cols),
        "X-Frame-Rows": str(frame.rows),
        "X-Rpc-Ms": f"{frame.rpc_seconds * 1000:.1f}",
    }
    if frame.acquisition_time is not None:
        headers["X-Acquisition-Time"] = f"{frame.acquisition_time:.6f}"
        headers["X-Image-Age-Ms"] = f"{(now - frame.acquisition_time) * 1000:.1f}"
    if frame.value_range is not None:
        headers["X-Value-Range"] = f"{frame.value_range[0]}..{frame.value_range[1]}"
        if frame.depth_scale > 0:
            headers["X-Depth-Scale"] = f"{frame.depth_scale:g}"
    return headers
