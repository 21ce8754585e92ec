"""Progress output: one line per step, with the time each step took.

Top-level steps are numbered ``[1]``, ``[2]`` ...; a step begun inside another is numbered
under it (``[2.1]``) and its time is part of its parent's, so the step times add up to the
whole and ``total_seconds`` is the wall-clock time since the progress began.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Iterator, List, TextIO


class Progress:
    """Prints `[n] step ...` lines and `done in X s` when a step finishes."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._numbers: List[int] = [0]  # the step counter of each open nesting level
        self._started = time.monotonic()
        self.timings: dict[str, float] = {}  # top-level steps only

    @property
    def total_seconds(self) -> float:
        """Wall-clock seconds since this progress began."""
        return time.monotonic() - self._started

    def _indent(self) -> str:
        return "    " * (len(self._numbers) - 1)

    def info(self, message: str) -> None:
        """Print an indented detail line of the current step."""
        if not self._quiet:
            print(f"{self._indent()}      {message}", file=self._stream, flush=True)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Context manager around one step; a top-level step's duration goes to
        `timings[title]`."""
        self._numbers[-1] += 1
        number = ".".join(str(n) for n in self._numbers)
        indent = self._indent()
        if not self._quiet:
            print(f"{indent}[{number}] {title} ...", file=self._stream, flush=True)
        start = time.monotonic()
        self._numbers.append(0)
        try:
            yield
        finally:
            self._numbers.pop()
        elapsed = time.monotonic() - start
        if len(self._numbers) == 1:
            self.timings[title] = elapsed
        if not self._quiet:
            print(f"{indent}    done in {elapsed:.1f} s", file=self._stream, flush=True)
