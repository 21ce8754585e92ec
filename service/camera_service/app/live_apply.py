"""Applying a new config to the running service without a restart.

``apply_sources(service, config)`` compares the running sources with the ones ``config``
builds, by name and settings:
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
import threading
from typing import TYPE_CHECKING, Any, Dict, List

from camera_service.capture.capture_thread import CaptureThread
from camera_service.config.model import Config
from camera_service.sources.base import CameraSource

if TYPE_CHECKING:
    from camera_service.app.service import CameraService

_LOG = logging.getLogger(__name__)
STOP_TIMEOUT = 2.0


def _same(capture: CaptureThread, source: CameraSource) -> bool:
    return (capture.kind, capture.settings) == (source.kind, source.settings)


def restart_needed(running: Config, new: Config) -> List[str]:
    """The sections that differ but only take effect at start."""
    return [name for name in ("robot", "service", "settings", "log_level")
            if getattr(running, name) != getattr(new, name)]


def apply_sources(service: CameraService, config: Config) -> Dict[str, Any]:
    """Make ``service`` capture and serve ``config``'s sources (see module doc). Returns
    ``{kept, reopened, added, removed, republished, restart_needed}`` (names)."""
    wanted = config.build_sources()
    running = {capture.name: capture for capture in service.captures}
    kept, reopened, added = [], [], []
    captures: List[CaptureThread] = []
    fresh: List[CaptureThread] = []
    for source in wanted:
        old = running.get(source.name)
        if old is not None and _same(old, source):
            kept.append(source.name)
            captures.append(old)
            continue
        (reopened if old is not None else added).append(source.name)
        capture = service.new_capture(source)
        captures.append(capture)
        fresh.append(capture)
    names = {source.name for source in wanted}
    removed = [name for name in running if name not in names]
    _stop_all([running[name] for name in removed + reopened])
    for name in removed + reopened:
        service.store.reset(name)
    service.captures = captures
    service.sources = [source for source in wanted if source.name in (added + reopened)] + [
        source for source in service.sources if source.name in kept]
    service.servicer.captures = {capture.name: capture for capture in captures}
    service.refresh_geometry()
    service.faults.set_cameras([capture.state for capture in captures])
    for capture in fresh:
        capture.start()
    republish = bool(reopened or added or removed)
    if republish and service.link is not None:
        service.link.republish()
    pending = restart_needed(service.config, config)
    service.config = dataclasses.replace(service.config, sources=config.sources,
                                         path=config.path)
    result = {"kept": kept, "reopened": reopened, "added": added, "removed": removed,
              "republished": republish, "restart_needed": pending}
    _LOG.info("config applied: kept %s, reopened %s, added %s, removed %s%s",
              _names(kept), _names(reopened), _names(added), _names(removed),
              "; source list republished to the robot" if republish else "")
    if pending:
        _LOG.warning("config: %s changed; restart the extension to apply that",
                     ", ".join(pending))
    return result


def _names(names: List[str]) -> str:
    return ", ".join(names) if names else "none"


def _stop_all(captures: List[CaptureThread]) -> None:
    """Stop ``captures`` in parallel, each within ``STOP_TIMEOUT`` seconds."""
    threads = [threading.Thread(target=c.stop, args=(STOP_TIMEOUT,), daemon=True)
               for c in captures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STOP_TIMEOUT + 0.5)
