"""What one source serves about its geometry, computed once per size and per payload pose.

``SourceGeometry.model_at(width, height)`` is the camera model for an image of that size
(the granted size of each camera open, and the size of every ``resize_ratio`` response),
built once per size and reused; a size with another aspect ratio than calibrated gets no
model and one warning line. ``snapshot()`` is the frame tree for every shot: built once
for a body mount, and again only when the payload's pose on the robot changes for a
payload-relative one.
"""

from __future__ import annotations

import logging
import threading
from typing import Dict, Optional, Tuple

from bosdyn.api import geometry_pb2
from bosdyn.client.frame_helpers import BODY_FRAME_NAME

from camera_service.geometry.camera_model import CameraModel, ModelError
from camera_service.geometry.config import GeometrySettings
from camera_service.geometry.frames import PAYLOAD_FRAME_NAME, sensor_frame_name, sensor_snapshot
from camera_service.geometry.mount import BODY
from camera_service.geometry.payload_pose import PayloadPose

_LOG = logging.getLogger(__name__)
MAX_SIZES = 32  # distinct output sizes remembered per source (resize ratios are arbitrary)


class SourceGeometry:
    """The geometry of the source ``name`` configured by ``settings``.

    ``payload_pose`` is needed for a payload-relative mount (else that mount's tree stays
    rooted at the payload frame). Thread-safe: RPC threads call it concurrently.
    """

    def __init__(self, name: str, settings: GeometrySettings,
                 payload_pose: PayloadPose | None = None) -> None:
        self.name = name
        self.settings = settings
        self.frame_name = sensor_frame_name(name) if settings.mount is not None else ""
        self._payload_pose = payload_pose
        self._lock = threading.Lock()
        self._models: Dict[tuple, Optional[CameraModel]] = {}
        self._snapshot: Tuple[int, geometry_pb2.FrameTreeSnapshot] | None = None

    @property
    def payload_relative(self) -> bool:
        mount = self.settings.mount
        return mount is not None and mount.parent != BODY

    def model_at(self, width: int, height: int,
                 delivered: Tuple[int, int] | None = None) -> CameraModel | None:
        """The model for a ``width`` x ``height`` image the camera delivers, or None (no
        calibration, or another aspect ratio - reported once). ``delivered``: the image is
        the service's resize of a delivered image of that size."""
        calibrated = self.settings.model
        if calibrated is None:
            return None
        key = (width, height, delivered)
        with self._lock:
            if key in self._models:
                return self._models[key]
        model: CameraModel | None
        if delivered is not None:
            base = self.model_at(*delivered)
            model = None if base is None else base.scaled_to(width, height, resized=True)
        else:
            try:
                model = calibrated.scaled_to(width, height)
            except ModelError as err:
                _LOG.warning("camera %r: no intrinsics served: %s", self.name, err)
                model = None
        with self._lock:
            if len(self._models) >= MAX_SIZES:
                self._models.clear()
            self._models[key] = model
        return model

    def snapshot(self) -> geometry_pb2.FrameTreeSnapshot | None:
        """The frame tree linking ``frame_name`` to ``body``; None without a mount. The same
        message is returned until the payload's pose changes: callers copy it, never edit."""
        mount = self.settings.mount
        if mount is None:
            return None
        version, body_tform_payload = 0, None
        if self.payload_relative and self._payload_pose is not None:
            body_tform_payload, version = self._payload_pose.current()
        with self._lock:
            if self._snapshot is not None and self._snapshot[0] == version:
                return self._snapshot[1]
        parent = BODY_FRAME_NAME if mount.parent == BODY else PAYLOAD_FRAME_NAME
        snapshot = sensor_snapshot(self.frame_name, mount.pose(), parent, body_tform_payload)
        with self._lock:
            self._snapshot = (version, snapshot)
        return snapshot
