"""``python -m camera_service``: see ``camera_service.cli``."""

from __future__ import annotations

import sys

from camera_service.cli import main

sys.exit(main())
