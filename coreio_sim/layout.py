"""Where things live in a CORE I/O stand-in tree (``--root DIR``).

The tree mirrors the real payload computer's absolute paths below ``root``:

==============================================  =============================================
real CORE I/O                                   stand-in
==============================================  =============================================
``/data/.extensions/<name>/``                   ``ROOT/data/.extensions/<name>/``
``/opt/payload_credentials/payload_guid_and_secret``  ``ROOT/opt/payload_credentials/...``
``/etc/udev/rules.d/`` (rules copied + triggered)  ``ROOT/etc/udev/rules.d/`` (staged only)
(portal state)                                  ``ROOT/var/lib/coreio_sim/<name>/``
==============================================  =============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Host path prefixes owned by the CORE I/O; bind mounts below them are moved into the tree.
COREIO_HOST_PREFIXES = ("/data", "/opt/payload_credentials")
#: The real payload credentials file (GUID on line 1, secret on line 2).
CREDENTIALS_PATH = PurePosixPath("/opt/payload_credentials/payload_guid_and_secret")


@dataclass(frozen=True)
class CoreIoRoot:
    """Paths of one stand-in tree. ``root`` must be an absolute path (see ``at``)."""

    root: Path

    @classmethod
    def at(cls, root: Path) -> CoreIoRoot:
        """The tree rooted at ``root`` (made absolute, not created)."""
        return cls(Path(root).resolve())

    @property
    def extensions_dir(self) -> Path:
        return self.root / "data" / ".extensions"

    def extension_dir(self, name: str) -> Path:
        return self.extensions_dir / name

    @property
    def credentials_file(self) -> Path:
        return self.host_path(CREDENTIALS_PATH)

    @property
    def udev_rules_dir(self) -> Path:
        return self.root / "etc" / "udev" / "rules.d"

    def state_dir(self, name: str) -> Path:
        """Installer bookkeeping for one extension (override file, kept files in transit)."""
        return self.root / "var" / "lib" / "coreio_sim" / name

    def host_path(self, real_path: PurePosixPath) -> Path:
        """Where the absolute CORE I/O path ``real_path`` lives in this tree."""
        return self.root.joinpath(*real_path.parts[1:])

    def maps(self, real_path: PurePosixPath) -> bool:
        """True if ``real_path`` is a CORE I/O-owned path that this tree stands in for."""
        return real_path.is_absolute() and any(
            real_path == PurePosixPath(prefix) or PurePosixPath(prefix) in real_path.parents
            for prefix in COREIO_HOST_PREFIXES
        )
