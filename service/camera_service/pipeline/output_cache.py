"""Encode once, serve many: the bytes of each (frame, output) pair are produced at most once.

Concurrent requests for the same frame and output wait on the one encode in flight and get
the same ``bytes`` object. Entries for older frames are evicted (bounded size). ``encodes``
counts real encodes (passthrough and cache hits excluded) for tests and benchmarks. The cache
holds at most ``max_entries`` outputs and ``max_bytes`` bytes (oldest evicted first): a few
frames' worth, since requests almost always ask for the latest frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Dict, Tuple

from camera_service.pipeline.encoding import EncodedImage, OutputSpec, is_passthrough, produce
from camera_service.pipeline.frame_store import StoredFrame
from camera_service.pipeline.sixteen_bit_output import ViewMemo, produce_sixteen_bit
from camera_service.sources.base import Frame

CacheKey = Tuple[str, int, OutputSpec]


class _InFlight:
    """One encode in progress; waiters block on ``done`` and read ``result``/``error``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: EncodedImage | None = None
        self.error: BaseException | None = None


class OutputCache:
    """Thread-safe encode-once cache keyed by (source, frame serial, output spec)."""

    def __init__(self, max_entries: int = 64, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, EncodedImage] = OrderedDict()
        self._in_flight: Dict[CacheKey, _InFlight] = {}
        self.views = ViewMemo()  # 8-bit views of 16-bit frames, once per frame and settings
        self.encodes = 0  # real encodes performed
        self.passthroughs = 0  # responses served with the camera's own bytes
        self.hits = 0  # responses served from the cache or by waiting on an in-flight encode

    def get(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        """The bytes of ``stored`` in ``spec``; raises what ``produce`` raises."""
        key = (stored.source, stored.serial, spec)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cached
            pending = self._in_flight.get(key)
            owner = pending is None
            if owner:
                pending = self._in_flight[key] = _InFlight()
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            with self._lock:
                self.hits += 1
            return pending.result
        try:
            pending.result = self._produce_counted(stored, spec)
        except BaseException as err:
            pending.error = err
            raise
        finally:
            with self._lock:
                del self._in_flight[key]
                if pending.result is not None:
                    self._entries[key] = pending.result
                    self._bytes += len(pending.result.data)
                    while len(self._entries) > 1 and (len(self._entries) > self.max_entries
                                                      or self._bytes > self.max_bytes):
                        self._bytes -= len(self._entries.popitem(last=False)[1].data)
            pending.done.set()
        return pending.result

    def passes_through(self, frame: Frame, spec: OutputSpec) -> bool:
        """Whether ``get`` answers ``spec`` with the camera's own bytes (nothing encoded)."""
        return is_passthrough(frame, spec)

    def stats(self) -> Dict[str, int]:
        """Counters: ``encodes``, ``passthroughs``, ``hits``, ``entries``, ``bytes``."""
        with self._lock:
            return {"encodes": self.encodes, "passthroughs": self.passthroughs,
                    "hits": self.hits, "entries": len(self._entries), "bytes": self._bytes}

    def _produce_counted(self, stored: StoredFrame, spec: OutputSpec) -> EncodedImage:
        if stored.frame.sixteen_bit:
            return self._count(produce_sixteen_bit(
                stored.frame, spec, lambda view: self.views.view(stored, view)))
        return self._count(produce(stored.frame, spec))

    def _count(self, image: EncodedImage) -> EncodedImage:
        """Count ``image`` as a passthrough or an encode; returns it."""
        with self._lock:
            if image.passthrough:
                self.passthroughs += 1
            else:
                self.encodes += 1
        return image
