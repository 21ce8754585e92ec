"""Compute once per key, share with every caller: a bounded, thread-safe LRU of results.

``OnceCache.get(key, make)`` returns the cached value of ``key``, or calls ``make()`` once
while concurrent callers of the same key wait for that one call and get the same object (an
exception is raised to all of them, and nothing is cached). At most ``max_entries`` values
and ``max_bytes`` bytes (as counted by ``size``) are kept; the least recently used go first,
but the newest value always stays.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Dict, Generic, Hashable, Tuple, TypeVar

Value = TypeVar("Value")


class _InFlight(Generic[Value]):
    """One computation in progress; waiters block on ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Value | None = None
        self.error: BaseException | None = None


class OnceCache(Generic[Value]):
    """See module doc. ``hits`` counts answers from the cache or from waiting on a call in
    flight; ``misses`` the calls of ``make``."""

    def __init__(self, max_entries: int, max_bytes: int,
                 size: Callable[[Value], int]) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Tuple[Value, int]] = OrderedDict()
        self._in_flight: Dict[Hashable, _InFlight[Value]] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value of ``key``, made by ``make()`` at most once at a time (see module doc)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            waited_for = self._in_flight.get(key)
            owner = waited_for is None
            pending: _InFlight[Value] = waited_for or _InFlight()
            if owner:
                self._in_flight[key] = pending
                self.misses += 1
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            with self._lock:
                self.hits += 1
            return pending.result  # type: ignore[return-value]  # set: make() returned
        try:
            pending.result = make()
        except BaseException as err:
            pending.error = err
            raise
        finally:
            with self._lock:
                del self._in_flight[key]
                if pending.error is None:
                    self._store(key, pending.result)  # type: ignore[arg-type]  # set: no error
            pending.done.set()
        return pending.result

    def _store(self, key: Hashable, value: Value) -> None:
        size = self._size(value)
        self._entries[key] = (value, size)
        self._bytes += size
        while len(self._entries) > 1 and (len(self._entries) > self.max_entries
                                          or self._bytes > self.max_bytes):
            self._bytes -= self._entries.popitem(last=False)[1][1]

    def stats(self) -> Tuple[int, int]:
        """(entries, bytes) held now."""
        with self._lock:
            return len(self._entries), self._bytes
