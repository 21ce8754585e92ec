"""sources/v4l2."""
