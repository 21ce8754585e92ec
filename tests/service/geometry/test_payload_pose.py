"""PayloadPose: which pose field counts, and problems reported once without raising."""

from __future__ import annotations

import logging

from bosdyn.api import geometry_pb2, payload_pb2
from bosdyn.client.exceptions import RpcError
from camera_service.geometry.payload_pose import PayloadPose, body_tform_payload

POSE = geometry_pb2.SE3Pose(position=geometry_pb2.Vec3(x=0.2),
                            rotation=geometry_pb2.Quaternion(w=1))


class _Client:
    def __init__(self, payloads=(), error=None):
        self.payloads, self.error = list(payloads), error

    def list_payloads(self, timeout):
        if self.error:
            raise self.error
        return self.payloads


def test_fields():
    assert body_tform_payload(payload_pb2.Payload(GUID="g", body_tform_payload=POSE))[0] == POSE
    unknown_mount = payload_pb2.Payload(GUID="g", mount_tform_payload=POSE)
    assert body_tform_payload(unknown_mount) == (POSE, "")
    gripper = payload_pb2.Payload(GUID="g", mount_tform_payload=POSE,
                                  mount_frame_name=payload_pb2.MOUNT_FRAME_GRIPPER_PAYLOAD)
    pose, problem = body_tform_payload(gripper)
    assert pose is None and "MOUNT_FRAME_GRIPPER_PAYLOAD" in problem
    assert "without a mount pose" in body_tform_payload(payload_pb2.Payload(GUID="g"))[1]


def test_refresh_keeps_the_last_pose_and_reports_once(caplog):
    tracker = PayloadPose()
    tracker.refresh(_Client([payload_pb2.Payload(GUID="mine", body_tform_payload=POSE)]),
                    "mine", 1.0)
    pose, version = tracker.current()
    assert pose == POSE
    with caplog.at_level(logging.WARNING):
        for _ in range(2):  # robot away (or the token may not list payloads): keep the pose
            tracker.refresh(_Client(error=RpcError("down")), "mine", 1.0)
        assert tracker.current() == (POSE, version)
        for _ in range(3):
            tracker.refresh(_Client([payload_pb2.Payload(GUID="other")]), "mine", 1.0)
        tracker.refresh(_Client(), "", 1.0)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("not in the robot's payload list" in m for m in messages) == 1
    assert sum("log in as a payload" in m for m in messages) == 1
    assert sum("cannot read the robot's payload list (RpcError)" in m for m in messages) == 1
