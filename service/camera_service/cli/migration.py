"""Moving from the SDK example: its names, so recorded missions and captures keep working.

Autowalk missions and Data Acquisition configurations name a camera by the image service's
directory name and the image source name. The SDK examples (SDK 5 and SDK 2, and the Data
Acquisition tutorial) register ``web-cam-service`` (authority ``robot-web-cam``) and name a
source after its device (``video0``). When the service is started the examples' way - with a
``payload`` or ``external`` mode word, or with the robot's address as an argument - it
takes those names, unless ``--name``/``--authority`` or the config file set others; with no
camera given it serves the first camera as ``video0``, as the example serves device 0.
"""

from __future__ import annotations

import argparse

from camera_service.config.model import Config, SourceConfig
from camera_service.sources.base import SourceSettings

EXAMPLE_NAME = "web-cam-service"
EXAMPLE_AUTHORITY = "robot-web-cam"
EXAMPLE_DEFAULT_SOURCE = "video0"


def apply_example_names(config: Config, args: argparse.Namespace) -> None:
    """Give ``config`` the example's names where neither a flag nor the file chose one."""
    service = config.service
    if args.name is None and "service.name" not in config.given:
        service.name = EXAMPLE_NAME
    if args.authority is None and "service.authority" not in config.given:
        service.authority = EXAMPLE_AUTHORITY
    if not config.sources:
        # The example opens device 0; "auto" opens the first camera that can capture, which
        # is that one, and finds it again after a replug under another number.
        config.sources = [SourceConfig("v4l2", SourceSettings(
            EXAMPLE_DEFAULT_SOURCE, jpeg_quality=service.jpeg_quality,
            options={"device": "auto"}))]
