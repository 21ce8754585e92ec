"""A stand-in for the CORE I/O portal's extension installer, for tests and for use by hand.

``python -m coreio_sim install FILE.spx --root DIR [--credentials FILE]`` installs (or
upgrades) a Spot Extension into a tree that mirrors the CORE I/O's paths below DIR and starts
it with Docker Compose; ``uninstall NAME --root DIR`` removes it; ``list --root DIR`` shows
what is installed. Dev tool only: not part of the production image.
"""

from __future__ import annotations

from coreio_sim.errors import InstallError
from coreio_sim.installer import Installed, install, list_installed, uninstall
from coreio_sim.layout import CoreIoRoot

__all__ = ["CoreIoRoot", "InstallError", "Installed", "install", "list_installed", "uninstall"]
