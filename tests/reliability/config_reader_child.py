"""Child process of the config fuzz test: reads config file paths from stdin, one per line,
and answers each with one JSON line: ``{"ok": true, "sources": n}`` or ``{"ok": false,
"message": "..."}`` (the ``ConfigError`` line the operator would see). Anything else - a
traceback, a crash, an OOM kill - is what the test looks for. Runs in the test's memory
cgroup."""

from __future__ import annotations

import json
import sys

from camera_service.config import model
from camera_service.core.errors import ConfigError


def main() -> int:
    for line in sys.stdin:
        path = line.strip()
        try:
            config = model.load(path)
            answer = {"ok": True, "sources": len(config.sources)}
        except ConfigError as err:
            answer = {"ok": False, "message": str(err)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
