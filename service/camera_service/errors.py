"""Exception types shared across the service.

Every message is meant for an operator: one line naming the problem and the fix. No message
may contain a secret.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration is invalid. ``key`` is the dotted path of the offending setting."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config error at '{key}': {problem}")
        self.key = key
        self.problem = problem


class SourceUnavailable(RuntimeError):
    """A camera source cannot be opened right now (absent, busy, unreachable).

    The capture loop keeps retrying; the source is listed and faulted meanwhile.
    """


class SourceError(RuntimeError):
    """A camera source that was open stopped delivering frames (unplugged, stream ended).

    The capture loop closes the source and reopens it.
    """
