"""Exception types shared across the service.

Every message is meant for an operator: one line naming the problem and the fix. No message
may contain a secret.
"""

from __future__ import annotations

from typing import Any

EXCERPT_CHARS = 60
MAX_KEY_CHARS = 120
MAX_PROBLEM_CHARS = 300


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long the whole was: a
    value echoed into an error is shown, never dumped (a 10 MB string stays one short line).
    Containers are not rendered whole either."""
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {type(value).__name__} of {len(value)} entries"
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, (str, bytes)) else ""
    return f"{text[:limit]}...{size}"


def _shortened(text: str, limit: int) -> str:
    """``text`` with its middle elided past ``limit`` (start and end - the fix - are kept)."""
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


def _one_line(text: str) -> str:
    """``text`` with line breaks shown as ``\\n`` (a key read from YAML may hold one)."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


class ConfigError(ValueError):
    """The configuration is invalid. ``key`` is the dotted path of the offending setting.

    The message is bounded whatever went into it (key and problem are cut in the middle).
    """

    def __init__(self, key: str, problem: str) -> None:
        key = _shortened(_one_line(key), MAX_KEY_CHARS)
        problem = _shortened(_one_line(problem), MAX_PROBLEM_CHARS)
        super().__init__(f"config error at '{key}': {problem}")
        self.key = key
        self.problem = problem


class SourceUnavailable(RuntimeError):
    """A camera source cannot be opened right now (absent, busy, unreachable).

    The capture loop keeps retrying; the source is listed and faulted meanwhile.
    """


class CredentialsRefused(SourceUnavailable):
    """The camera refused the configured credentials (e.g. HTTP 401/403).

    Retried like a refused robot login: after ``capture_thread.REFUSED_RETRY_SECONDS``,
    doubling up to ``REFUSED_RETRY_MAX_SECONDS`` - a camera account is locked out by
    wrong passwords retried every second as surely as a robot account is.
    """


class SourceError(RuntimeError):
    """A camera source that was open stopped delivering frames (unplugged, stream ended).

    The capture loop closes the source and reopens it.
    """
