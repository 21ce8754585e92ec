"""The payload credentials file a CORE I/O provides to every extension.

The real file is ``/opt/payload_credentials/payload_guid_and_secret``: the payload GUID on
line 1, its secret on line 2. The stand-in tree holds a copy at the same place below ROOT.
The secret is never logged.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from coreio_sim.errors import InstallError
from coreio_sim.layout import CoreIoRoot

LOG = logging.getLogger("coreio_sim")


def check_credentials_file(source: Path) -> None:
    """Raise ``InstallError`` (one line, no secret) unless ``source`` is a readable payload
    credentials file: the GUID on line 1, the secret on line 2. Checked before an install
    touches anything."""
    flag = f"--credentials {source}"
    if not source.is_file():
        raise InstallError(f"{flag}: no such file; give the payload credentials file "
                           "(GUID on line 1, secret on line 2)")
    try:
        lines = [line.strip() for line in source.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise InstallError(f"{flag}: cannot read it ({type(err).__name__})") from None
    if len(lines) != 2:
        raise InstallError(f"{flag}: expected 2 lines (GUID, then secret), found "
                           f"{len(lines)}")


def install_credentials(tree: CoreIoRoot, source: Path | None) -> None:
    """Copy ``source`` to the tree's credentials path (kept as is when ``source`` is None).

    The copy is world-readable (0644) because the extension runs as a non-root user; the
    tree is a test stand-in, not a robot. A folder Docker made at that path (when a container
    was started before any credentials existed) is replaced.
    """
    if source is None:
        return
    source = Path(source)
    check_credentials_file(source)
    target = tree.credentials_file
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        shutil.rmtree(target)
    shutil.copyfile(source, target)
    target.chmod(0o644)
    LOG.info("payload credentials copied to %s", target)
