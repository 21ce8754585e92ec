"""``python -m camera_service.calibrate``: calibrate a camera with a chessboard.

- ``frames``: where the images come from - the running service through the robot (the
  SDK's ImageClient), the service's own port, or the device itself (service stopped).
- ``views``: chessboard detection, which views to keep, coverage of the image.
- ``solve``: OpenCV's calibration (Brown-Conrady or Kannala-Brandt) to a ``CameraModel``.
- ``__main__``: the command line and the terminal guidance.
"""
