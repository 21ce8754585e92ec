"""The one exception type of the CORE I/O stand-in installer.

Every message is one line for an operator: what is wrong and how to fix it.
"""

from __future__ import annotations


class InstallError(RuntimeError):
    """An extension cannot be installed, upgraded, listed or removed as asked."""
