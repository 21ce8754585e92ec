"""``python -m camera_service``: see ``camera_service.cli.main``."""

from __future__ import annotations

import sys

from camera_service.cli.main import main

sys.exit(main())
