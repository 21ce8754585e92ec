"""Applying a new config to the running service without a restart.

``apply_sources(cameras, running, config, republish)`` compares the running cameras (the
``capture.cameras.Cameras`` owner) with the sources ``config`` builds, by name and settings:
- unchanged sources keep their capture thread: their stream is never interrupted;
- changed ones (same name, other settings) are stopped and reopened with the new settings;
- removed ones are stopped (their faults are cleared by the next fault sync), added ones
  started.
When the published source list changes (any of the above but "unchanged"), the robot link
republishes it: unregister, wait until the robot's directory has dropped the entry,
register again (the robot expects a registered service's list not to change in place).

Sections other than ``sources`` (robot, service, settings) are read only at start: a change
there is reported in ``restart_needed`` and logged, not applied.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Dict, List, Tuple

from camera_service.capture.cameras import CameraChange, Cameras
from camera_service.config.model import Config

_LOG = logging.getLogger(__name__)
STOP_TIMEOUT = 2.0


def restart_needed(running: Config, new: Config) -> List[str]:
    """The sections that differ but only take effect at start."""
    return [name for name in ("robot", "service", "settings", "log_level")
            if getattr(running, name) != getattr(new, name)]


def apply_sources(cameras: Cameras, running: Config, config: Config,
                  republish: Callable[[], None]) -> Tuple[Dict[str, Any], Config]:
    """Make ``cameras`` capture ``config``'s sources (see module doc); ``republish`` is
    called when the published source list changed. Returns what changed (``{kept,
    reopened, added, removed, republished, restart_needed}``, names) and the config now
    running (``running`` with ``config``'s sources and path)."""
    wanted = config.build_sources()
    kept: List[str] = []
    reopened: List[str] = []
    added: List[str] = []
    for source in wanted:
        if cameras.runs(source):
            kept.append(source.name)
        else:
            (reopened if cameras.get(source.name) is not None else added).append(source.name)
    names = [source.name for source in wanted]
    removed = [camera.name for camera in cameras.running() if camera.name not in names]
    cameras.change(CameraChange(add=[s for s in wanted if s.name in added],
                                replace=[s for s in wanted if s.name in reopened],
                                remove=removed, order=names), STOP_TIMEOUT)
    republished = bool(reopened or added or removed)
    if republished:
        republish()
    pending = restart_needed(running, config)
    result = {"kept": kept, "reopened": reopened, "added": added, "removed": removed,
              "republished": republished, "restart_needed": pending}
    _LOG.info("config applied: kept %s, reopened %s, added %s, removed %s%s",
              _names(kept), _names(reopened), _names(added), _names(removed),
              "; source list republished to the robot" if republished else "")
    if pending:
        _LOG.warning("config: %s changed; restart the extension to apply that",
                     ", ".join(pending))
    return result, dataclasses.replace(running, sources=config.sources, path=config.path)


def _names(names: List[str]) -> str:
    return ", ".join(names) if names else "none"
