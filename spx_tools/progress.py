"""Progress output: one line per step, with the time each step took."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Iterator, TextIO


class Progress:
    """Prints `[n] step ...` lines and `done in X s` when a step finishes."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._count = 0
        self.timings: dict[str, float] = {}

    def info(self, message: str) -> None:
        """Print an indented detail line of the current step."""
        if not self._quiet:
            print(f"      {message}", file=self._stream, flush=True)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Context manager around one step; records its duration in `timings[title]`."""
        self._count += 1
        if not self._quiet:
            print(f"[{self._count}] {title} ...", file=self._stream, flush=True)
        start = time.monotonic()
        yield
        elapsed = time.monotonic() - start
        self.timings[title] = elapsed
        if not self._quiet:
            print(f"    done in {elapsed:.1f} s", file=self._stream, flush=True)
