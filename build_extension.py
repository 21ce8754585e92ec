#!/usr/bin/env python3
"""Build and lint Spot Extension (.spx) packages for the CORE I/O.

    python build_extension.py build [--amd64] [--local-base] [-o FILE.spx]
    python build_extension.py check FILE.spx
    python build_extension.py base-image [--arch arm64]

Run with --help for every option; the logic lives in the spx_tools package.
"""

from __future__ import annotations

import sys

from spx_tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
