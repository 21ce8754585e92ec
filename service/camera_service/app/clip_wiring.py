"""Wiring of the clips stage: a pre-roll ring per clip-enabled source, the plugin, its
servicer on the service's gRPC server and its directory entry ``<service name>-clips``.

Sources without ``clips.enabled`` keep no ring and offer no capability; with none enabled the
plugin is not registered (a live change that enables clips registers it, see
``live_apply``).
"""

from __future__ import annotations

import logging
from typing import Callable, Dict, List, Mapping, Optional, Protocol, Sequence

import grpc
from bosdyn.api import data_acquisition_plugin_service_pb2_grpc as plugin_grpc

from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.clips.budget import RingBudget
from camera_service.clips.plugin import ClipPlugin, ClipSource
from camera_service.clips.ring import FrameRing
from camera_service.clips.servicer import NAME_SUFFIX, SERVICE_TYPE, DeferredPluginServicer
from camera_service.config.model import Config
from camera_service.core.memory_limits import BudgetLimits, resolve_limit
from camera_service.encoding.encoder import OutputSpec
from camera_service.encoding.output_cache import OutputCache
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.robot.faults import FaultReporter
from camera_service.robot.link import RobotLink
from camera_service.robot.registration import ServiceEndpoint
from camera_service.robot.time_sync import RobotClock


class ClipHost(Protocol):
    """What the clips read of the service they belong to (``app.service.CameraService``)."""

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> FrameStore: ...

    @property
    def cache(self) -> OutputCache: ...

    @property
    def clock(self) -> RobotClock: ...

    @property
    def faults(self) -> FaultReporter: ...

    @property
    def captures(self) -> Sequence[CaptureThread]: ...

    @property
    def geometries(self) -> Mapping[str, SourceGeometry]: ...

    @property
    def link(self) -> Optional[RobotLink]: ...

_LOG = logging.getLogger(__name__)


def clip_jpeg(cache: OutputCache, capture: CaptureThread):
    """The JPEG a clip holds for a frame without camera JPEG bytes: the frame encoded once
    through the shared output cache at the camera's JPEG quality (a 16-bit frame: its 8-bit
    view with the source's view settings)."""

    def jpeg_of(stored: StoredFrame) -> bytes:
        frame = stored.frame
        info = capture.state.status().info
        view = info.sixteen_bit.view if info is not None and info.sixteen_bit else None
        grey = frame.channels == 1 and (view is None or view.colormap == "none")
        spec = OutputSpec("jpeg", "grey" if grey else "rgb", capture.jpeg_quality,
                          frame.width, frame.height, view=view)
        return cache.get(stored, spec).data

    return jpeg_of


class ClipsWiring:
    """The clips stage of one ``CameraService`` (see the module doc). ``apply`` follows the
    running captures (at start and after every live config change): a ring per
    clip-enabled source (kept across a change that leaves the source and its pre-roll as
    they were), the plugin's sources and capabilities. ``active``: some source has clips,
    so the plugin is registered."""

    def __init__(self, service: ClipHost, limits: BudgetLimits) -> None:
        self.service = service
        self._limits = limits
        self.rings: Dict[str, FrameRing] = {}
        self._captures: Dict[str, CaptureThread] = {}
        self.plugin = ClipPlugin([], service.clock.robot_timestamp,
                                 service.clock.local_seconds)
        self.servicer = DeferredPluginServicer(self.plugin, self._robot)
        # a camera that fails is faulted for the clips plugin too, like the image service
        service.faults.also_for(self.endpoint_name, lambda camera: camera in self.rings)
        self.apply(service.captures)

    @property
    def active(self) -> bool:
        return bool(self.rings)

    def apply(self, captures: Sequence[CaptureThread]) -> None:
        """Rings and capabilities for the clip-enabled ones among ``captures``."""
        enabled = {c.name: c for c in captures if c.settings.clips.enabled}
        _limit, origin = resolve_limit(self.service.config.service.memory_limit_mib)
        budget = RingBudget.share_of(self._limits, len(enabled), origin)
        rings: Dict[str, FrameRing] = {}
        for name, capture in enabled.items():
            ring = self.rings.get(name)
            if (ring is None or self._captures.get(name) is not capture
                    or ring.budget != budget):
                ring = FrameRing(name, capture.settings.clips.pre_roll_s, budget)
                ring.attach(self.service.store)
            rings[name] = ring
        for name, ring in self.rings.items():
            if rings.get(name) is not ring:
                ring.detach()
        self.rings, self._captures = rings, enabled
        self.plugin.set_sources([self._source(c) for c in enabled.values()])
        self.servicer.refresh_capabilities()
        if rings:
            _LOG.info("clips: %s (pre-roll ring up to %.0f MiB each)",
                      ", ".join(f"{name}-clip" for name in rings),
                      budget.max_bytes / (1024 * 1024))

    def _source(self, capture: CaptureThread) -> ClipSource:
        return ClipSource(
            name=capture.name, ring=self.rings[capture.name], status=capture.state.status,
            controls=capture.controls, describe=capture.describe, kind=capture.kind,
            jpeg_of=clip_jpeg(self.service.cache, capture),
            geometry=self._geometry_of(capture.name))

    def _geometry_of(self, name: str) -> Callable[[], Optional[SourceGeometry]]:
        """The source's current geometry (rebuilt by the service after a live change)."""
        return lambda: self.service.geometries.get(name)

    def _robot(self):
        link = self.service.link
        return link.session.robot if link is not None else None

    def add_to(self, server: grpc.Server) -> None:
        plugin_grpc.add_DataAcquisitionPluginServiceServicer_to_server(self.servicer, server)

    @property
    def endpoint_name(self) -> str:
        return self.service.config.service.name + NAME_SUFFIX

    def endpoint(self, host: str, port: int, liveness_timeout: float) -> ServiceEndpoint:
        """The plugin's directory entry: beside the image service, same server."""
        config = self.service.config.service
        return ServiceEndpoint(self.endpoint_name, config.authority + NAME_SUFFIX,
                               host, port, liveness_timeout=liveness_timeout,
                               service_type=SERVICE_TYPE)

    def endpoints(self, host: str, port: int, liveness_timeout: float
                  ) -> List[ServiceEndpoint]:
        """The directory entries the clips need now: the plugin's while ``active``."""
        return [self.endpoint(host, port, liveness_timeout)] if self.active else []

    def stop(self) -> None:
        for ring in self.rings.values():
            ring.detach()
        self.servicer.stop()
