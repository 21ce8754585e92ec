"""``python -m robot_sim``: see ``robot_sim.cli``."""

from __future__ import annotations

import sys

from robot_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
