"""SourceGeometry: models per size computed once, snapshots the SDK's helpers accept."""

from __future__ import annotations

import logging

import pytest
from bosdyn.api import geometry_pb2
from bosdyn.client.frame_helpers import BODY_FRAME_NAME, get_a_tform_b
from bosdyn.client.math_helpers import SE3Pose
from camera_service.geometry.camera_model import BROWN_CONRADY, CameraModel
from camera_service.geometry.config import GeometrySettings
from camera_service.geometry.frames import merged
from camera_service.geometry.mount import Mount
from camera_service.geometry.payload_pose import PayloadPose
from camera_service.geometry.source_geometry import SourceGeometry
from geometry_helpers import same_pose

MODEL = CameraModel(1280, 720, 900, 900, 640, 360, BROWN_CONRADY, (0.1, 0.01, 0, 0, 0))
BODY_MOUNT = Mount.from_rpy_deg("body", (0.4, -0.05, 0.12), (-90, 0, -90))
PAYLOAD_MOUNT = Mount.from_rpy_deg("payload", (0.1, 0.0, 0.05), (-90, 10, -90))


def test_model_per_size_is_computed_once():
    geometry = SourceGeometry("front", GeometrySettings(MODEL, None))
    first = geometry.model_at(640, 360)
    assert first is geometry.model_at(640, 360)
    assert (first.width, first.fx) == (640, 450)
    assert geometry.model_at(1280, 720) is MODEL
    assert geometry.frame_name == ""  # no mount: no frame
    assert geometry.snapshot() is None


def test_other_aspect_warns_once(caplog):
    geometry = SourceGeometry("front", GeometrySettings(MODEL, None))
    with caplog.at_level(logging.WARNING):
        assert geometry.model_at(640, 480) is None
        assert geometry.model_at(640, 480) is None
    assert len([r for r in caplog.records if "another aspect ratio" in r.getMessage()]) == 1


def test_body_mount_snapshot():
    geometry = SourceGeometry("front", GeometrySettings(None, BODY_MOUNT))
    snapshot = geometry.snapshot()
    assert snapshot is geometry.snapshot()  # built once
    assert geometry.frame_name == "front_image_sensor"
    pose = get_a_tform_b(snapshot, BODY_FRAME_NAME, geometry.frame_name)
    assert same_pose(pose, SE3Pose.from_proto(BODY_MOUNT.pose()))


def test_payload_mount_follows_the_payload_pose():
    payload_pose = PayloadPose()
    geometry = SourceGeometry("rear", GeometrySettings(None, PAYLOAD_MOUNT), payload_pose)
    unlinked = geometry.snapshot()
    assert get_a_tform_b(unlinked, BODY_FRAME_NAME, "rear_image_sensor") is None
    body_tform_payload = geometry_pb2.SE3Pose(position=geometry_pb2.Vec3(x=-0.2, z=0.3),
                                              rotation=geometry_pb2.Quaternion(w=1))
    assert payload_pose.set(body_tform_payload)
    assert not payload_pose.set(body_tform_payload)  # same pose: no new version
    linked = geometry.snapshot()
    assert linked is geometry.snapshot()
    expected = SE3Pose.from_proto(body_tform_payload) * SE3Pose.from_proto(PAYLOAD_MOUNT.pose())
    assert same_pose(get_a_tform_b(linked, BODY_FRAME_NAME, "rear_image_sensor"), expected)


def test_merged_tree_holds_every_body_linked_sensor():
    payload_pose = PayloadPose()
    payload_pose.set(geometry_pb2.SE3Pose(rotation=geometry_pb2.Quaternion(w=1)))
    front = SourceGeometry("front", GeometrySettings(None, BODY_MOUNT)).snapshot()
    rear = SourceGeometry("rear", GeometrySettings(None, PAYLOAD_MOUNT), payload_pose).snapshot()
    tree = merged([front, rear])
    for name in ("front_image_sensor", "rear_image_sensor"):
        assert get_a_tform_b(tree, BODY_FRAME_NAME, name) is not None


@pytest.mark.parametrize("unlinked_first", [True, False])
def test_merged_keeps_one_tree(unlinked_first):
    front = SourceGeometry("front", GeometrySettings(None, BODY_MOUNT)).snapshot()
    rear = SourceGeometry("rear", GeometrySettings(None, PAYLOAD_MOUNT), PayloadPose()).snapshot()
    tree = merged([rear, front] if unlinked_first else [front, rear])
    assert "rear_image_sensor" not in tree.child_to_parent_edge_map  # not linked to body yet
    assert get_a_tform_b(tree, BODY_FRAME_NAME, "front_image_sensor") is not None
