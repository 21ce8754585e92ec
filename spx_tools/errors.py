"""The one exception type the command line turns into a one-line error."""

from __future__ import annotations


class PackagingError(Exception):
    """A failure the user can fix; str(error) is one line naming the problem and the fix."""
