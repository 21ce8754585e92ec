"""The payload's own pose on the robot, read from the robot's payload list.

An operator can move a payload in the robot's admin console; a source mounted relative to the
payload follows. ``PayloadPose.refresh`` runs on every robot-link round (see
``robot.link``): it lists the robot's payloads, picks this payload's GUID and keeps its
``body_tform_payload``. ``version`` changes whenever the pose does, so per-source snapshots
are rebuilt only then.

Which field: ``body_tform_payload`` when the robot fills it; otherwise ``mount_tform_payload``
when ``mount_frame_name`` is ``MOUNT_FRAME_UNKNOWN`` (which the API defines as the body
frame). A payload mounted on the gripper or wrist moves with the arm, which a fixed snapshot
cannot follow: that is reported once and no pose is served.
"""

from __future__ import annotations

import logging
import threading
from typing import Tuple

from bosdyn.api import geometry_pb2, payload_pb2
from bosdyn.client.exceptions import Error as SdkError
from bosdyn.client.payload import PayloadClient

_LOG = logging.getLogger(__name__)


def body_tform_payload(payload: payload_pb2.Payload) -> Tuple[geometry_pb2.SE3Pose | None, str]:
    """``(pose, problem)``: the payload's pose in ``body``, or None and why not."""
    if payload.HasField("body_tform_payload"):
        return payload.body_tform_payload, ""
    if payload.HasField("mount_tform_payload"):
        if payload.mount_frame_name == payload_pb2.MOUNT_FRAME_UNKNOWN:
            return payload.mount_tform_payload, ""
        frame = payload_pb2.MountFrameName.Name(payload.mount_frame_name)
        return None, (f"payload {payload.GUID} is mounted on {frame}, which moves with the "
                      "arm; payload-relative camera mounts need a body-mounted payload")
    return None, f"the robot lists payload {payload.GUID} without a mount pose"


class PayloadPose:
    """This payload's ``body_tform_payload`` as last read from the robot (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pose: geometry_pb2.SE3Pose | None = None
        self._version = 0
        self._problem: str | None = None

    def current(self) -> Tuple[geometry_pb2.SE3Pose | None, int]:
        """``(pose or None, version)``; ``version`` changes with every new pose."""
        with self._lock:
            return self._pose, self._version

    def set(self, pose: geometry_pb2.SE3Pose | None) -> bool:
        """Store ``pose``; True when it differs from the one held."""
        with self._lock:
            if pose == self._pose:
                return False
            self._pose = None
            if pose is not None:
                self._pose = geometry_pb2.SE3Pose()
                self._pose.CopyFrom(pose)
            self._version += 1
        return True

    def refresh(self, client: PayloadClient, guid: str, timeout: float) -> None:
        """Read this payload's pose from the robot; never raises (problems are logged once
        each, and the last known pose is kept while the robot cannot be asked)."""
        if not guid:
            self._report("payload-relative camera mounts need the service to log in as a "
                         "payload (robot.mode: payload); mounts stay unlinked to body")
            return
        try:
            payloads = client.list_payloads(timeout=timeout)
        except SdkError as err:
            # once per kind of failure: a payload token the robot does not let list payloads
            # must be visible, a robot outage is already reported by the robot link
            self._report(f"cannot read the robot's payload list ({type(err).__name__}); "
                         "keeping the last known payload pose")
            return
        mine = next((p for p in payloads if guid == p.GUID), None)
        if mine is None:
            self._report(f"payload {guid} is not in the robot's payload list; "
                         "payload-relative camera mounts stay unlinked to body")
            return
        pose, problem = body_tform_payload(mine)
        if problem:
            self._report(problem)
        if self.set(pose) and pose is not None:
            _LOG.info("payload %s pose on the robot: xyz=(%.3f, %.3f, %.3f)", guid,
                      pose.position.x, pose.position.y, pose.position.z)
        if not problem:
            self._problem = None

    def _report(self, problem: str) -> None:
        if problem != self._problem:
            _LOG.warning("%s", problem)
            self._problem = problem
