"""PayloadService: the robot's payload list through the SDK's PayloadClient."""

from __future__ import annotations

from bosdyn.api import payload_pb2
from bosdyn.client.payload import PayloadClient


def test_payload_list_has_the_mount_pose_and_no_secret(robot_sim):
    robot = robot_sim.sdk_robot()
    client = robot.ensure_client(PayloadClient.default_service_name)
    (listed,) = client.list_payloads()
    assert robot_sim.payload_guid == listed.GUID and listed.is_authorized
    assert not listed.HasField("body_tform_payload")  # not placed yet
    robot_sim.set_payload_pose(robot_sim.payload_guid, [-0.1, 0.02, 0.15], [0, 0, 0, 1])
    (listed,) = client.list_payloads()
    pose = listed.body_tform_payload
    assert (pose.position.x, pose.position.y, pose.position.z) == (-0.1, 0.02, 0.15)
    assert (pose.rotation.w, pose.rotation.z) == (0, 1)
    assert listed.mount_tform_payload == pose
    assert listed.mount_frame_name == payload_pb2.MOUNT_FRAME_UNKNOWN  # = the body frame
    secret = robot_sim.payload_credentials_file.read_text().splitlines()[1]
    assert secret not in str(listed)


def test_payload_pose_from_another_process(robot_sim_process):
    robot_sim_process.set_payload_pose(robot_sim_process.payload_guid, [0.3, 0, 0.1])
    robot = robot_sim_process.sdk_robot()
    (listed,) = robot.ensure_client(PayloadClient.default_service_name).list_payloads()
    assert listed.body_tform_payload.position.x == 0.3
