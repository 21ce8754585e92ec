"""The outputs of a 16-bit frame: its values in the Spot API byte order, or its 8-bit view.

``produce_sixteen_bit(frame, spec, view_of)`` makes one ``OutputSpec`` of a 16-bit frame:
- layouts ``grey16`` / ``depth16`` (RAW only): the values (resized first when asked: area
  averaging for thermal, nearest neighbour for depth, so no depth is invented at edges);
- layouts ``grey`` / ``rgb`` (RAW or JPEG): the 8-bit view for ``spec.view``, resized; its
  ``value_range`` is the raw range the view shows (reported to clients with the image).

``view_of(settings)`` returns the frame's full-size ``View``; ``ViewMemo`` provides it made
once per (frame, settings), shared by every output of that frame (JPEG at any quality,
GREYSCALE_U8, RGB_U8), the way the encode-once cache shares each output's bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Tuple

import cv2
import numpy as np

from camera_service.capture.frame_store import StoredFrame
from camera_service.core.sixteen_bit import (
    PROTO_BYTE_ORDER,
    View,
    ViewSettings,
    make_view,
    proto_bytes,
)
from camera_service.encoding.encoder import EncodedImage, OutputSpec, encode_jpeg, resize
from camera_service.sources.base import Frame

ViewOf = Callable[[ViewSettings], View]
RAW_LAYOUTS = tuple(PROTO_BYTE_ORDER)  # grey16, depth16


def _resized_values(values: np.ndarray, spec: OutputSpec) -> np.ndarray:
    size = (spec.width, spec.height)
    if (values.shape[1], values.shape[0]) == size:
        return values
    method = cv2.INTER_NEAREST if spec.layout == "depth16" else cv2.INTER_AREA
    return cv2.resize(values, size, interpolation=method)


def produce_sixteen_bit(frame: Frame, spec: OutputSpec, view_of: ViewOf) -> EncodedImage:
    """The bytes of ``spec`` for the 16-bit ``frame`` (see the module doc)."""
    if spec.layout in RAW_LAYOUTS:
        if spec.format != "raw":
            raise ValueError(f"{spec.layout} is a RAW layout, not {spec.format}")
        assert frame.pixels is not None  # a 16-bit frame is always raw values
        data = proto_bytes(_resized_values(frame.pixels, spec), spec.layout)
        return EncodedImage(data, spec, passthrough=False)
    if spec.view is None:
        raise ValueError("an 8-bit output of a 16-bit frame needs view settings")
    view = view_of(spec.view)
    pixels = resize(view.pixels(spec.layout), (spec.width, spec.height))
    if spec.format == "jpeg":
        data = encode_jpeg(pixels, spec.quality)
    else:
        if spec.layout == "rgb" and pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
        data = np.ascontiguousarray(pixels).tobytes()
    return EncodedImage(data, spec, passthrough=False, value_range=(view.low, view.high))




class ViewMemo:
    """Views of recent 16-bit frames, made once per (source, frame serial, settings).

    Thread-safe; concurrent callers for one key wait for the one being made. Holds at most
    ``max_entries`` views (oldest dropped first). ``made`` counts views actually made.
    """

    def __init__(self, max_entries: int = 8) -> None:
        self.max_entries = max_entries
        self.made = 0
        self._lock = threading.Lock()
        self._views: OrderedDict[Tuple[str, int, ViewSettings], View] = OrderedDict()

    def view(self, stored: StoredFrame, settings: ViewSettings) -> View:
        key = (stored.source, stored.serial, settings)
        with self._lock:  # a view takes a few ms: making it under the lock is the simple way
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
            values = stored.frame.pixels
            assert values is not None  # a 16-bit frame is always raw values
            made = make_view(values, settings)
            self.made += 1
            self._views[key] = made
            while len(self._views) > self.max_entries:
                self._views.popitem(last=False)
            return made
