"""Encode once, serve many: everything fixed for one (frame, output) pair is made once.

Three layers, each a ``OnceCache`` (concurrent requests for the same key wait for the one
computation in flight and share its result; a few frames' worth is kept, oldest evicted):

- ``decoded(stored, factor)``: a camera JPEG decoded (at 1/``factor`` scale), once per frame
  and scale for every output that needs pixels (RAW, resized, greyscale, re-encoded JPEG);
- ``get(stored, spec)``: the bytes of one ``OutputSpec`` of a frame (``EncodedImage``): the
  camera's own bytes (passthrough), or one encode from the shared decode;
- ``served(stored, spec, variant, build)``: what a caller builds from those bytes (the
  servicer: the serialized ``ImageResponse``, robot-time stamp included), once per frame,
  output and ``variant`` (whatever else the built value depends on, e.g. the camera's
  description generation).

API for other outputs: an ``OutputSpec`` with its own ``format``/``layout`` (or ``view``)
and a producer (``encoding.produce``; 16-bit frames: ``sixteen_bit_output``, whose 8-bit
views are made once per frame and settings in ``views``); caching, sharing, the served
responses and the counters follow.

Counters (``stats()``): ``encodes`` (real encodes and conversions), ``decodes`` (JPEG
decodes), ``passthroughs`` (outputs that are the camera's bytes), ``hits`` (outputs and
served values answered without producing), ``responses_built`` (``served`` builds).
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, Hashable, TypeVar

import numpy as np

from camera_service.capture.frame_store import StoredFrame
from camera_service.core.once_cache import OnceCache
from camera_service.encoding.encoder import (
    EncodedImage,
    OutputSpec,
    decode_jpeg,
    produce,
)
from camera_service.encoding.sixteen_bit_output import ViewMemo, produce_sixteen_bit

Built = TypeVar("Built")
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


def _size(value) -> int:
    if isinstance(value, EncodedImage):
        return len(value.data)
    if isinstance(value, np.ndarray):
        return value.nbytes
    return len(value)


class OutputCache:
    """Thread-safe encode-once cache keyed by (source, frame serial, output spec).

    ``max_entries``/``max_bytes`` bound the outputs and the served values each; decoded
    frames are bounded to ``max_decoded`` (full-size pixels are large).
    """

    def __init__(self, max_entries: int = 64, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_decoded: int = 4) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._outputs: OnceCache[EncodedImage] = OnceCache(max_entries, max_bytes, _size)
        self._decoded: OnceCache[np.ndarray] = OnceCache(max_decoded, 4 * max_bytes, _size)
        self._served: OnceCache = OnceCache(max_entries, max_bytes, _size)
        self._lock = threading.Lock()
        self.views = ViewMemo()  # 8-bit views of 16-bit frames, once per frame and settings
        self.encodes = 0  # real encodes performed
        self.passthroughs = 0  # outputs that are the camera's own bytes

    @property
    def hits(self) -> int:
        """Outputs and served values answered from the cache or by waiting on one in
        flight (nothing produced or built)."""
        return self._outputs.hits + self._served.hits

    @property
    def decodes(self) -> int:
        """JPEG decodes performed (one per frame and scale, whatever the outputs)."""
        return self._decoded.misses

    def get(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        """The bytes of ``stored`` in ``spec``; raises what ``produce`` raises."""
        return self._outputs.get((stored.source, stored.serial, spec),
                                 lambda: self._produce_counted(stored, spec))

    def decoded(self, stored: StoredFrame, factor: int) -> np.ndarray:
        """The frame's JPEG decoded at 1/``factor`` scale (read-only), once per frame."""
        jpeg = stored.frame.jpeg
        assert jpeg is not None
        return self._decoded.get((stored.source, stored.serial, factor),
                                 lambda: decode_jpeg(jpeg, factor))

    def served(self, stored: StoredFrame, spec: OutputSpec, variant: Hashable,
               build: Callable[[EncodedImage], Built]) -> Built:
        """``build(self.get(stored, spec))``, made once per (frame, spec, ``variant``) and
        shared; ``build`` must return ``bytes`` (or anything with a ``len``)."""
        return self._served.get((stored.source, stored.serial, spec, variant),
                                lambda: build(self.get(stored, spec)))

    def stats(self) -> Dict[str, int]:
        """Counters (see module doc), plus ``entries`` and ``bytes`` of the outputs held."""
        entries, held = self._outputs.stats()
        with self._lock:
            return {"encodes": self.encodes, "passthroughs": self.passthroughs,
                    "hits": self.hits, "decodes": self.decodes,
                    "responses_built": self._served.misses,
                    "entries": entries, "bytes": held}

    def _produce_counted(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        if stored.frame.sixteen_bit:
            return self._count(produce_sixteen_bit(
                stored.frame, spec, lambda view: self.views.view(stored, view)))
        return self._count(produce(stored.frame, spec,
                                   decoder=lambda factor: self.decoded(stored, factor)))

    def _count(self, image: EncodedImage) -> EncodedImage:
        """Count ``image`` as a passthrough or an encode; returns it."""
        with self._lock:
            if image.passthrough:
                self.passthroughs += 1
            else:
                self.encodes += 1
        return image
