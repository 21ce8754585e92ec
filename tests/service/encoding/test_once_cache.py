"""Compute once per key, bounded."""

from __future__ import annotations

import pytest
from camera_service.core.once_cache import OnceCache


def test_values_are_made_once_and_the_least_recently_used_go_first():
    made = []
    cache = OnceCache(max_entries=2, max_bytes=100, size=len)

    def make(key):
        made.append(key)
        return key * 10

    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, lambda key=key: make(key))
    assert made == ["a", "b", "c", "b"]  # "b" was evicted by "c", "a" kept being used
    assert (cache.hits, cache.misses) == (2, 4)
    assert cache.stats() == (2, 20)


def test_the_newest_value_stays_even_past_the_byte_bound():
    cache = OnceCache(max_entries=8, max_bytes=5, size=len)
    cache.get(1, lambda: b"0123456789")
    assert cache.stats() == (1, 10)
    cache.get(2, lambda: b"abcdefghij")
    assert cache.stats() == (1, 10)


def test_a_failure_is_raised_and_not_kept():
    cache = OnceCache(max_entries=8, max_bytes=100, size=len)
    with pytest.raises(RuntimeError):
        cache.get("k", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert cache.get("k", lambda: b"ok") == b"ok" and cache.misses == 2
