"""The JSON stored with each clip: what, when (per-frame robot times), which camera, how.

Robot times are seconds (float) in the robot's clock, converted from the frames' local
capture times with the service's time sync. Camera descriptions go through ``scrub`` (a
camera URL may hold a password).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable, Dict, Optional, Sequence

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from camera_service.clips.recorder import ClipResult
from camera_service.core.redaction import scrub
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.sources.base import Control, SourceInfo

ToRobotTime = Callable[[float], Timestamp]


def _seconds(stamp: Timestamp) -> float:
    return stamp.seconds + stamp.nanos * 1e-9


def geometry_of(geometry: Optional[SourceGeometry], width: int, height: int
                ) -> Dict[str, Any]:
    """The camera model at the clip's size and the mount (frame tree), when configured."""
    if geometry is None:
        return {"camera_model": None, "mount": None}
    model = geometry.model_at(width, height) if width and height else None
    snapshot = geometry.snapshot()
    return {
        "camera_model": dataclasses.asdict(model) if model is not None else None,
        "sensor_frame": geometry.frame_name or None,
        "mount": (json_format.MessageToDict(snapshot) if snapshot is not None else None),
    }


def clip_metadata(*, source: str, capability: str, action: Dict[str, Any],
                  requested: Dict[str, float], action_local: float, result: ClipResult,
                  to_robot_time: ToRobotTime, info: Optional[SourceInfo], describe: str,
                  kind: str, controls: Sequence[Control], geometry: Optional[SourceGeometry],
                  tracks: list) -> Dict[str, Any]:
    """The metadata document of one clip (see the module doc)."""
    width = info.width if info is not None else 0
    height = info.height if info is not None else 0
    first = result.frame_times[0] if result.frame_times else None
    return {
        "source": source,
        "capability": capability,
        "action": action,
        "requested": requested,
        "action_robot_time": _seconds(to_robot_time(action_local)),
        "action_local_time": action_local,
        "pre_roll_kept_s": (round(action_local - first, 4) if first is not None else 0.0),
        "complete": result.failure is None,
        "failure": result.failure,
        "frames_left_out": result.skipped,
        "camera": {
            "kind": kind,
            "where": scrub(describe),
            "width": width,
            "height": height,
            "fps": info.fps if info is not None else None,
            "native_jpeg": info.native_jpeg if info is not None else None,
            "detail": scrub(info.detail) if info is not None else "",
        },
        "geometry": geometry_of(geometry, width, height),
        "controls": {c.name: c.value for c in controls},
        "tracks": tracks,
        "frames": [
            {"index": i, "serial": serial, "robot_time": _seconds(to_robot_time(local)),
             "local_time": local}
            for i, (local, serial) in enumerate(zip(result.frame_times,
                                                    result.frame_sequences))],
    }


def to_json(document: Dict[str, Any]) -> bytes:
    return json.dumps(document, indent=1, sort_keys=True, default=str).encode("utf-8")
