"""``python -m camera_service.schema --json``: print the config file's JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from camera_service.schema.document import json_schema


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_service.schema",
                                     description="The config file's schema, for docs and "
                                     "editors.")
    parser.add_argument("--json", action="store_true", help="print the JSON Schema "
                        "(the default)")
    parser.parse_args(argv)
    json.dump(json_schema(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
