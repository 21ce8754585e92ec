"""Development entry points that need the development packages (``robot_sim``,
``fake_cameras``): not part of the shipped image, whose ``camera_service`` package holds the
product only.

- ``demo``: ``python -m devtools.demo`` (``make demo``), the robot simulator, the camera
  service and the live viewer on one machine.
"""
