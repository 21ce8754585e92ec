"""Credentials out of every text the service shows: one module, used everywhere.

Camera URLs may carry ``user:password@`` whose password holds characters a URL parser
misreads when they are not percent-encoded (``#``, ``/``, ``?``, ``@``, ``:``):
``rtsp://admin:p#ss/w?rd@cam/stream`` parses with the standard rules as host ``admin`` and a
fragment, and the password ends up in the "host" of every message. So URLs are taken apart
here, by ``split_url``, before anything else parses or prints them:

- ``split_url(url)`` -> ``UrlParts`` (scheme, user, password, rest), credentials decoded;
- ``normalize_url(url)``: the same URL with its credentials percent-encoded, which every
  parser (urllib, FFmpeg) then reads as intended;
- ``redact_url(url)``: ``scheme://***@host/path`` (no user, no password);
- ``redact_values(value)``: a copy of a JSON-like value (dicts, lists, strings) whose every
  string is safe to show: a whole URL with credentials redacted, any other text scrubbed;
- ``is_redacted(url)``: the URL's credentials are (or include) the mask ``***``;
- ``scrub(text)``: any free text (log lines, faults, error messages) with URL credentials
  and every registered secret replaced by ``***``;
- ``register_secret(secret)``: a secret (URL password, payload secret, user password) that
  ``scrub`` removes wherever it shows up, also percent-encoded;
- ``ScrubbingFormatter``: a logging formatter that scrubs each finished line, tracebacks
  included.

Where the credentials end: the last ``@`` after ``scheme://`` that is followed by a host
(name, IPv4 or ``[IPv6]``, optional ``:port``, then ``/``, ``?``, ``#`` or the end) ends
them, provided the text before it looks like credentials (a ``:`` or an ``@`` before the
first ``/``, ``?`` or ``#``). So ``http://cam/snap@2x.jpg`` keeps its path; an ``@`` in a path
after a ``user:password@`` must be written ``%40``.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, List, Optional

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter ones would mask ordinary words; URL rules still catch them
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HOST = r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(:[^/?#@\s]*)?"  # any port text: checked later
_HOST_AFTER_AT = re.compile(_HOST + r"(?=[/?#]|$)")
_HOST_IN_TEXT = re.compile(_HOST + r"(?=[/?#)\]'\",;.]|$)")
# A URL in free text: scheme:// and the non-space run after it.
_URL_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s<>\"]*)")
_USERINFO_SAFE = "!$&'()*+,;=-._~"  # RFC 3986 sub-delims and unreserved, kept as is


@dataclass(frozen=True)
class UrlParts:
    """A URL with its credentials taken out (decoded). ``rest`` is host, port, path, query
    and fragment as written; ``bare`` the URL without credentials."""

    scheme: str
    user: Optional[str]
    password: Optional[str] = field(repr=False)
    rest: str

    @property
    def bare(self) -> str:
        return f"{self.scheme}://{self.rest}" if self.scheme else self.rest

    @property
    def has_credentials(self) -> bool:
        return self.user is not None


def _credentials_end(after_scheme: str, in_text: bool = False) -> int:
    """Index of the ``@`` that ends the credentials in ``after_scheme``, or -1. ``in_text``:
    the URL sits in free text (may be followed by punctuation); when unsure, mask more."""
    if "@" not in after_scheme:
        return -1
    first_segment = re.split(r"[/?#]", after_scheme, maxsplit=1)[0]
    host = _HOST_IN_TEXT if in_text else _HOST_AFTER_AT
    at = after_scheme.rfind("@")
    while at >= 0 and not host.match(after_scheme, at + 1):
        at = after_scheme.rfind("@", 0, at)
    if at < 0:  # no host after any @
        return after_scheme.rfind("@") if in_text else first_segment.rfind("@")
    if at < len(first_segment) or ":" in first_segment or "@" in first_segment:
        return at
    return -1  # ``cam/snap@2x.jpg``: the @ belongs to the path


def split_url(url: str) -> UrlParts:
    """Take ``url`` apart (see module doc). A text without ``scheme://`` has no credentials."""
    match = _SCHEME.match(url)
    if not match:
        return UrlParts("", None, None, url)
    scheme, after = match.group(1), url[match.end():]
    end = _credentials_end(after)
    if end < 0:
        return UrlParts(scheme, None, None, after)
    userinfo, rest = after[:end], after[end + 1:]
    raw_user, colon, raw_password = userinfo.partition(":")
    user = urllib.parse.unquote(raw_user)
    password = urllib.parse.unquote(raw_password) if colon else None
    register_secret(password)
    if password is None:  # a user-only credential (often a token) is a secret too
        register_secret(user)
    return UrlParts(scheme, user, password, rest)


def normalize_url(url: str) -> str:
    """``url`` with its credentials percent-encoded (unchanged when it has none)."""
    parts = split_url(url)
    if not parts.has_credentials:
        return url
    userinfo = urllib.parse.quote(parts.user or "", safe=_USERINFO_SAFE)
    if parts.password is not None:
        userinfo += ":" + urllib.parse.quote(parts.password, safe=_USERINFO_SAFE)
    return f"{parts.scheme}://{userinfo}@{parts.rest}"


def redact_url(url: str) -> str:
    """``url`` with any credentials replaced by ``***``; safe to show anywhere."""
    parts = split_url(url)
    if not parts.has_credentials:
        return _SECRETS.scrub(url)
    return _SECRETS.scrub(f"{parts.scheme}://{MASK}@{parts.rest}")


def is_redacted(url: str) -> bool:
    """True when ``url``'s user or password is the mask (``redact_url``'s output, or that
    output with a user typed back in front of the mask)."""
    parts = split_url(url)
    return parts.has_credentials and MASK in (parts.user, parts.password)


def redact_values(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with every string safe to show: a string that is a
    URL with credentials is ``redact_url``-ed (whatever characters its password holds, spaces
    included), every other string ``scrub``-bed. Keys are kept; other values as they are."""
    if isinstance(value, dict):
        return {key: redact_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_values(item) for item in value]
    if isinstance(value, str):
        return redact_url(value) if split_url(value).has_credentials else scrub(value)
    return value


class _SecretRegistry:
    """Secrets seen so far in this process (thread-safe), longest first when scrubbing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._needles: List[str] = []

    def add(self, secret: str) -> None:
        forms = {secret, urllib.parse.quote(secret, safe=""),
                 urllib.parse.quote(secret, safe=_USERINFO_SAFE)}
        with self._lock:
            for form in forms:
                if form not in self._needles:
                    self._needles.append(form)
            self._needles.sort(key=len, reverse=True)

    def scrub(self, text: str) -> str:
        with self._lock:
            needles = list(self._needles)
        for needle in needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text


_SECRETS = _SecretRegistry()


def register_secret(secret: Optional[str]) -> None:
    """Make ``scrub`` remove ``secret`` (ignored when empty or shorter than 4 characters)."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        _SECRETS.add(secret)


def scrub(text: str) -> str:
    """``text`` with URL credentials and registered secrets replaced by ``***``."""
    return _SECRETS.scrub(_URL_IN_TEXT.sub(_mask_url_in_text, text))


def _mask_url_in_text(match: re.Match) -> str:
    scheme, after = match.group(1), match.group(2)
    end = _credentials_end(after, in_text=True)
    return match.group(0) if end < 0 else f"{scheme}://{MASK}@{after[end + 1:]}"


class ScrubbingFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose every finished line (traceback included) is scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def scrub_log_handlers(logger: logging.Logger | None = None) -> None:
    """Give every handler of ``logger`` (default: the root logger) a scrubbing formatter
    with the same format string."""
    for handler in (logger or logging.getLogger()).handlers:
        if not isinstance(handler.formatter, ScrubbingFormatter):
            current = handler.formatter
            fmt = current._fmt if current is not None else None
            datefmt = current.datefmt if current is not None else None
            handler.setFormatter(ScrubbingFormatter(fmt, datefmt))
