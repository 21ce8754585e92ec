"""Encode once per (frame, output), shared by concurrent requests."""

from __future__ import annotations

import threading

import cv2
import pytest
from camera_service.capture.frame_store import FrameStore
from camera_service.core import once_cache
from camera_service.encoding import output_cache as cache_module
from camera_service.encoding.encoder import OutputSpec
from camera_service.encoding.output_cache import OutputCache
from camera_service.sources.base import Frame
from camera_service.sources.synthetic import render_test_pattern


def _stored(store, sequence=1):
    return store.put("cam", Frame(sequence, 1.0, 64, 48,
                                  pixels=render_test_pattern(64, 48, sequence, 1.0)))


def _stored_jpeg(store, sequence=1, quality=90):
    _, data = cv2.imencode(".jpg", render_test_pattern(64, 48, sequence, 1.0),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    return store.put("cam", Frame(sequence, 1.0, 64, 48, jpeg=data.tobytes(),
                                  jpeg_quality=quality))


SPEC = OutputSpec("jpeg", "rgb", 75, 64, 48)


class _Waiters:
    """Counts the callers blocked on a computation in flight, so a test can hold the one
    computation until every other caller is waiting on it (no sleeping for an overlap)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.count = 0

    def arrived(self) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def until(self, count: int, timeout: float = 30.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= count, timeout)


def _count_waiters(monkeypatch) -> _Waiters:
    waiters = _Waiters()

    class CountedEvent(threading.Event):
        def wait(self, timeout=None):
            waiters.arrived()
            return super().wait(timeout)

    class InFlight(once_cache._InFlight):
        def __init__(self) -> None:
            super().__init__()
            self.done = CountedEvent()

    monkeypatch.setattr(once_cache, "_InFlight", InFlight)
    return waiters


def test_concurrent_requests_share_one_encode(monkeypatch):
    real_produce = cache_module.produce
    waiters = _count_waiters(monkeypatch)

    def slow_produce(frame, spec, **kwargs):
        assert waiters.until(7)  # the other 7 requests wait on this encode
        return real_produce(frame, spec, **kwargs)

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
    waiters = _count_waiters(monkeypatch)

    def failing(frame, spec, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            assert waiters.until(2)  # both other requests wait on this one
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


def test_raw_and_jpeg_outputs_of_one_frame_cost_one_decode():
    cache = OutputCache()
    store = FrameStore()
    stored = _stored_jpeg(store)
    cache.get(stored, OutputSpec("raw", "rgb", 0, 64, 48))
    cache.get(stored, OutputSpec("jpeg", "rgb", 75, 64, 48))
    cache.get(stored, OutputSpec("jpeg", "grey", 75, 64, 48))
    cache.get(stored, OutputSpec("raw", "grey", 0, 64, 48))
    assert (cache.decodes, cache.encodes) == (1, 4)
    cache.get(stored, OutputSpec("jpeg", "rgb", 0, 64, 48))  # the camera's own: no decode
    assert (cache.decodes, cache.passthroughs) == (1, 1)
    cache.get(_stored_jpeg(store, 2), OutputSpec("raw", "rgb", 0, 64, 48))
    assert cache.decodes == 2  # the next frame is decoded again


def test_half_size_outputs_share_one_scaled_decode():
    cache = OutputCache()
    stored = _stored_jpeg(FrameStore())
    raw = cache.get(stored, OutputSpec("raw", "rgb", 0, 32, 24))
    cache.get(stored, OutputSpec("jpeg", "rgb", 75, 32, 24))
    assert len(raw.data) == 32 * 24 * 3 and cache.decodes == 1
    assert cache.decoded(stored, 2).shape == (24, 32, 3)  # the 1/2-scale decode, cached
    assert cache.decodes == 1


def test_served_values_are_built_once_per_frame_output_and_variant():
    cache = OutputCache()
    store = FrameStore()
    stored = _stored_jpeg(store)
    spec = OutputSpec("jpeg", "rgb", 0, 64, 48)
    builds = []

    def build(image):
        builds.append(image)
        return b"response:" + image.data[:4]

    first = [cache.served(stored, spec, "v1", build) for _ in range(5)]
    assert len(builds) == 1 and all(value is first[0] for value in first)
    cache.served(stored, spec, "v2", build)  # e.g. the camera reopened: a new description
    cache.served(_stored_jpeg(store, 2), spec, "v2", build)
    assert len(builds) == 3 and cache.stats()["responses_built"] == 3
