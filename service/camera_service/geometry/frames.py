"""Frame names and the ``FrameTreeSnapshot`` served with every image of a mounted source.

Names (documented in the README, stable across restarts):
- a source's sensor (optical) frame: ``<source name>_image_sensor`` (like Spot's own
  ``hand_color_image_sensor``);
- the payload's frame (payload-relative mounts): ``payload``.

The snapshot is a tree rooted at ``body`` (the root edge has an empty parent, as the SDK's
``frame_helpers.validate_frame_tree_snapshot`` requires): ``body -> sensor``, or
``body -> payload -> sensor``. While the payload's pose is not known yet (the robot has not
been reached) a payload-mounted sensor's tree is rooted at the payload frame.
"""

from __future__ import annotations

from typing import Iterable

from bosdyn.api import geometry_pb2
from bosdyn.client.frame_helpers import BODY_FRAME_NAME

SENSOR_SUFFIX = "_image_sensor"
PAYLOAD_FRAME_NAME = "payload"


def sensor_frame_name(source_name: str) -> str:
    """``frame_name_image_sensor`` of the source named ``source_name``."""
    return f"{source_name}{SENSOR_SUFFIX}"


def add_edge(snapshot: geometry_pb2.FrameTreeSnapshot, parent: str, child: str,
             parent_tform_child: geometry_pb2.SE3Pose | None = None) -> None:
    """Add ``child``'s edge (``parent`` "" = the root; no pose = identity)."""
    edge = snapshot.child_to_parent_edge_map[child]
    edge.parent_frame_name = parent
    if parent_tform_child is None:
        edge.parent_tform_child.rotation.w = 1.0
    else:
        edge.parent_tform_child.CopyFrom(parent_tform_child)


def sensor_snapshot(sensor: str, parent_tform_sensor: geometry_pb2.SE3Pose, parent: str,
                    body_tform_parent: geometry_pb2.SE3Pose | None = None
                    ) -> geometry_pb2.FrameTreeSnapshot:
    """The tree linking ``sensor`` to ``body``.

    ``parent`` is ``body`` or ``payload``; for ``payload``, ``body_tform_parent`` is
    its pose in ``body`` (None = not known yet: the payload frame is then the root).
    """
    snapshot = geometry_pb2.FrameTreeSnapshot()
    if parent == BODY_FRAME_NAME:
        add_edge(snapshot, "", BODY_FRAME_NAME)
    elif body_tform_parent is not None:
        add_edge(snapshot, "", BODY_FRAME_NAME)
        add_edge(snapshot, BODY_FRAME_NAME, parent, body_tform_parent)
    else:
        add_edge(snapshot, "", parent)
    add_edge(snapshot, parent, sensor, parent_tform_sensor)
    return snapshot


def _root(snapshot: geometry_pb2.FrameTreeSnapshot) -> str:
    return next((child for child, edge in snapshot.child_to_parent_edge_map.items()
                 if not edge.parent_frame_name), "")


def merged(snapshots: Iterable[geometry_pb2.FrameTreeSnapshot]
           ) -> geometry_pb2.FrameTreeSnapshot:
    """One tree holding the edges of every snapshot rooted like the first ``body``-rooted one
    (else like the first one): for ``ListImageSourcesResponse``, which carries one tree."""
    parts = list(snapshots)
    roots = [_root(s) for s in parts]
    root = BODY_FRAME_NAME if BODY_FRAME_NAME in roots else (roots[0] if roots else "")
    result = geometry_pb2.FrameTreeSnapshot()
    for snapshot, snapshot_root in zip(parts, roots):
        if snapshot_root == root:
            for child, edge in snapshot.child_to_parent_edge_map.items():
                result.child_to_parent_edge_map[child].CopyFrom(edge)
    return result
