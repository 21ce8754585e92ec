"""Encode once per (frame, output), shared by concurrent requests."""

from __future__ import annotations

import threading
import time

import pytest
from camera_service.pipeline import output_cache as cache_module
from camera_service.pipeline.encoding import OutputSpec
from camera_service.pipeline.frame_store import FrameStore
from camera_service.pipeline.output_cache import OutputCache
from camera_service.sources.base import Frame
from camera_service.sources.synthetic import render_test_pattern


def _stored(store, sequence=1):
    return store.put("cam", Frame(sequence, 1.0, 64, 48,
                                  pixels=render_test_pattern(64, 48, sequence, 1.0)))


SPEC = OutputSpec("jpeg", "rgb", 75, 64, 48)


def test_concurrent_requests_share_one_encode(monkeypatch):
    real_produce = cache_module.produce

    def slow_produce(frame, spec):
        time.sleep(0.1)  # make the requests overlap the encode
        return real_produce(frame, spec)

    monkeypatch.setattr(cache_module, "produce", slow_produce)
    cache = OutputCache()
    stored = _stored(FrameStore())
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(stored, SPEC)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.encodes == 1
    assert len({id(r.data) for r in results}) == 1  # the very same bytes object
    assert cache.stats()["hits"] == 7


def test_distinct_outputs_and_frames_encode_separately():
    cache = OutputCache()
    store = FrameStore()
    first = _stored(store, 1)
    cache.get(first, SPEC)
    cache.get(first, SPEC)
    cache.get(first, OutputSpec("raw", "rgb", 0, 64, 48))
    cache.get(_stored(store, 2), SPEC)
    assert cache.encodes == 3


def test_cache_is_bounded_in_entries_and_bytes():
    cache = OutputCache(max_entries=3)
    store = FrameStore()
    for sequence in range(10):
        cache.get(_stored(store, sequence + 1), SPEC)
    assert cache.stats()["entries"] == 3
    raw = OutputSpec("raw", "rgb", 0, 64, 48)  # 9216 bytes each
    small = OutputCache(max_entries=100, max_bytes=20000)
    for sequence in range(10):
        small.get(_stored(store, sequence + 1), raw)
    assert small.stats()["entries"] == 2 and small.stats()["bytes"] == 2 * 64 * 48 * 3


def test_failed_encode_is_reported_to_every_waiter_and_not_cached(monkeypatch):
    calls = []

    def failing(frame, spec):
        calls.append(1)
        time.sleep(0.05)
        raise RuntimeError("boom")

    monkeypatch.setattr(cache_module, "produce", failing)
    cache = OutputCache()
    stored = _stored(FrameStore())
    errors = []

    def request():
        try:
            cache.get(stored, SPEC)
        except RuntimeError as err:
            errors.append(err)

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 3
    with pytest.raises(RuntimeError):
        cache.get(stored, SPEC)
    assert len(calls) == 2  # the failure was not cached
    assert cache.stats()["entries"] == 0
