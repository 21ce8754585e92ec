"""Where a camera sits: the pose of its optical frame in ``body`` or in the payload's frame.

The optical frame has z along the optical axis, x to the image's right, y down. Rotations
are given as a quaternion ``[w, x, y, z]`` or as roll/pitch/yaw in degrees in the ROS
convention, ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (fixed axes x, y, z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple

from bosdyn.api import geometry_pb2

BODY = "body"  # the other parent is the payload's frame


def quaternion_from_rpy(roll: float, pitch: float, yaw: float) -> Tuple[float, float, float,
                                                                       float]:
    """``(w, x, y, z)`` of ``Rz(yaw) Ry(pitch) Rx(roll)`` (radians)."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (cy * cp * cr + sy * sp * sr,
            cy * cp * sr - sy * sp * cr,
            cy * sp * cr + sy * cp * sr,
            sy * cp * cr - cy * sp * sr)


def normalized(quaternion: Sequence[float]) -> Tuple[float, float, float, float]:
    """``quaternion`` scaled to unit length; raises ``ValueError`` for a zero one."""
    norm = math.sqrt(sum(q * q for q in quaternion))
    if not norm > 1e-9:
        raise ValueError("quaternion has zero length")
    w, x, y, z = (q / norm for q in quaternion)
    return (w, x, y, z)


@dataclass(frozen=True)
class Mount:
    """The sensor's pose in ``parent`` (``body`` or ``payload``): translation in metres and a
    unit quaternion ``(w, x, y, z)``."""

    parent: str
    xyz: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    quaternion: Tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)

    @classmethod
    def from_rpy_deg(cls, parent: str, xyz: Sequence[float], rpy_deg: Sequence[float]) -> Mount:
        roll, pitch, yaw = (math.radians(a) for a in rpy_deg)
        x, y, z = xyz
        return cls(parent, (float(x), float(y), float(z)), quaternion_from_rpy(roll, pitch, yaw))

    def pose(self) -> geometry_pb2.SE3Pose:
        """``parent_tform_sensor`` as the SDK's proto."""
        w, x, y, z = self.quaternion
        return geometry_pb2.SE3Pose(
            position=geometry_pb2.Vec3(x=self.xyz[0], y=self.xyz[1], z=self.xyz[2]),
            rotation=geometry_pb2.Quaternion(w=w, x=x, y=y, z=z))
