"""The one polling helper of the tests, benchmarks and VM harness.

Use it only for conditions nothing signals (another process's state, a robot directory over
gRPC); inside one process prefer an event, barrier or condition variable.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, what: str = "the condition",
             interval: float = 0.02) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy and
    return that. Raises ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s")
        time.sleep(interval)
