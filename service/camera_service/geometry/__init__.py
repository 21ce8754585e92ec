"""Camera geometry: where a source is mounted and how it projects.

- ``camera_model``: the intrinsics (pinhole, Brown-Conrady, Kannala-Brandt), scaled to the
  size a camera grants or a request asks for, as ``ImageSource`` camera-model protos.
- ``calibration_file``: OpenCV calibration YAML/XML and ROS ``camera_info`` YAML readers, and
  the OpenCV YAML writer used by ``camera_service.calibrate``.
- ``mount``: a sensor's pose in ``body`` or in the payload's frame.
- ``frames``: frame names and the ``FrameTreeSnapshot`` the SDK's frame helpers walk.
- ``payload_pose``: the payload's own mount pose, read from the robot's payload list.
- ``config``: the ``calibration`` / ``intrinsics`` / ``mount`` keys of a source entry.
- ``source_geometry``: what one source serves, computed once per camera open.
"""
