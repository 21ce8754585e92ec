"""What a request asks of a frame before the frame is known, fitted to the frame served.

``serving.request_spec`` parses and validates an ``ImageRequest`` once into an
``OutputRequest`` (format, layout, quality asked, resize ratio, the source's quality and
passthrough policy, a 16-bit source's view). Only the frame then served knows its size,
whether it carries the camera's JPEG and that JPEG's quality: ``fit(frame)`` turns the
request into the frame's ``OutputSpec`` - pure arithmetic, nothing validated again. The JPEG
quality rules live here and nowhere else:

- a full-size colour JPEG of a frame carrying the camera's JPEG is the camera's bytes when
  the source's passthrough policy says so (``encoding.passthrough``): quality 0, one output
  for every such request whatever its ``quality_percent``;
- otherwise ``quality_percent`` unset (0, NaN) means the camera's own quality when it
  delivers JPEG (estimated), else the source's ``jpeg_quality``; other values are clamped
  to 1..100 (infinity is 100);
- RAW has quality 0.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from camera_service.core.sixteen_bit import ViewSettings
from camera_service.encoding.encoder import EncodingError, OutputSpec, scaled_size
from camera_service.encoding.passthrough import DEFAULT_POLICY, serves_camera_bytes
from camera_service.sources.base import Frame


class FormatChanged(EncodingError):
    """The frame served is not of the kind the request was validated for (a 16-bit camera
    reopened as 8-bit, or the other way round, between the two)."""


class OutputRequest(NamedTuple):
    """An output as asked, valid for the camera's current open (see the module doc).

    ``format`` ``jpeg``/``raw``; ``layout`` the output pixel layout; ``quality_percent`` the
    request's as sent; ``resize_ratio`` 0 or 1 = full size, else in (0, 1);
    ``default_quality`` the source's ``jpeg_quality``; ``passthrough`` its policy;
    ``sixteen_bit`` whether it was validated for a 16-bit source, whose 8-bit outputs are
    made with ``view`` (None for its 16-bit values and for 8-bit sources). A tuple: one
    is made per request.
    """

    format: str
    layout: str
    quality_percent: float
    resize_ratio: float
    default_quality: int
    passthrough: str = DEFAULT_POLICY
    sixteen_bit: bool = False
    view: Optional[ViewSettings] = None

    def fit(self, frame: Frame) -> OutputSpec:
        """The ``OutputSpec`` of this request for ``frame``. Raises ``FormatChanged``."""
        if frame.sixteen_bit != self.sixteen_bit:
            raise FormatChanged("the camera is changing format; retry")
        width, height = scaled_size(frame.width, frame.height, self.resize_ratio)
        if self.format == "raw":
            return OutputSpec(self.format, self.layout, 0, width, height, self.view)
        requested = min(100.0, max(0.0, self.quality_percent))  # inf too; NaN is 0
        own = frame.jpeg_quality if frame.jpeg is not None else None
        if frame.jpeg is not None and self.layout == "rgb" and (width, height) == (
                frame.width, frame.height) and serves_camera_bytes(self.passthrough, requested,
                                                                   own):
            quality = 0
        elif requested > 0:
            quality = round(max(1.0, requested))
        else:
            quality = own if own is not None else self.default_quality
        return OutputSpec(self.format, self.layout, quality, width, height, self.view)
