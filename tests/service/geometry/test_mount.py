"""Mount poses: the ROS roll/pitch/yaw convention and the optical frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bosdyn.client.math_helpers import Quat, SE3Pose
from camera_service.geometry.mount import Mount, normalized, quaternion_from_rpy


def _matrix(roll, pitch, yaw):
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch),
                              math.sin(pitch), math.cos(yaw), math.sin(yaw))
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


@pytest.mark.parametrize("rpy", [(0.3, -0.7, 2.1), (-1.2, 0.4, -0.2), (0, 0, math.pi / 2)])
def test_rpy_is_rz_ry_rx(rpy):
    w, x, y, z = quaternion_from_rpy(*rpy)
    assert np.allclose(Quat(w=w, x=x, y=y, z=z).to_matrix(), _matrix(*rpy), atol=1e-12)


def test_forward_camera_optical_frame():
    # the usual forward-looking camera: rpy [-90, 0, -90] puts optical z along body x,
    # image x (right) along body -y, image y (down) along body -z
    mount = Mount.from_rpy_deg("body", (0.4, 0.0, 0.1), (-90, 0, -90))
    pose = SE3Pose.from_proto(mount.pose())
    rotation = pose.rotation.to_matrix()
    assert np.allclose(rotation @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    assert np.allclose(rotation @ [1, 0, 0], [0, -1, 0], atol=1e-12)
    assert np.allclose(rotation @ [0, 1, 0], [0, 0, -1], atol=1e-12)
    assert (pose.x, pose.y, pose.z) == (0.4, 0.0, 0.1)


def test_normalized_quaternion():
    assert normalized((2, 0, 0, 0)) == (1, 0, 0, 0)
    with pytest.raises(ValueError):
        normalized((0, 0, 0, 0))
