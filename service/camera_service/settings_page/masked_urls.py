"""Camera URL passwords stay on the robot: the page sees them masked, a save keeps them.

The page receives every source entry through ``redaction.redact_values`` (``GET
/api/config``), so a URL with credentials reaches it as ``scheme://***@host/path``. When
the page sends the list back, ``keep_stored_passwords`` puts the stored URL back in place of
each masked one: same source name, same scheme, host, port, path and query, and the same user
when the page names one (``scheme://user:***@host/path``). A URL the user retyped with a new
password, or one without credentials, is taken as given. A URL that still carries the mask
but matches no stored URL of that source (its host or user changed) is refused with a
``ConfigError`` asking for the password, so ``***`` is never written as a password.
"""

from __future__ import annotations

from typing import Any, Dict, List

from camera_service.core.errors import ConfigError
from camera_service.core.redaction import MASK, is_redacted, redact_url, split_url


def keep_stored_passwords(entries: List[Dict[str, Any]],
                          stored: List[Any]) -> List[Dict[str, Any]]:
    """``entries`` (the page's source list) with every masked URL replaced by the stored
    URL it stands for, looked up in ``stored`` (the file's source list). Raises
    ``ConfigError`` keyed ``sources[i].KEY`` for a masked URL with no stored match."""
    by_name = {entry.get("name"): entry for entry in stored if isinstance(entry, dict)}
    return [_restore(entry, _stored_urls(by_name.get(entry.get("name"))), f"sources[{index}]")
            for index, entry in enumerate(entries)]


def _stored_urls(value: Any) -> List[str]:
    """Every URL with credentials anywhere in a stored entry."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in _stored_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in _stored_urls(item)]
    if isinstance(value, str) and split_url(value).has_credentials:
        return [value]
    return []


def _restore(value: Any, stored: List[str], key: str) -> Any:
    if isinstance(value, dict):
        return {name: _restore(item, stored, f"{key}.{name}") for name, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, stored, f"{key}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, str) and is_redacted(value):
        original = _match(value, stored)
        if original is None:
            raise ConfigError(key, f"shows the masked credentials ({MASK}) but is not this "
                                   "source's saved URL (user or host changed): type the "
                                   "user and password in the URL again")
        return original
    return value


def _match(masked: str, stored: List[str]) -> str | None:
    """The stored URL that ``masked`` stands for, or None."""
    page = split_url(masked)
    if page.password not in (None, MASK):  # a new password typed after a masked user
        return None
    for url in stored:
        if masked == redact_url(url):
            return url
        parts = split_url(url)
        same_user = page.user == MASK or page.user == parts.user
        if parts.scheme == page.scheme and parts.rest == page.rest and same_user:
            return url
    return None
