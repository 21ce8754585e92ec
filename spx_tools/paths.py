"""Locations of the repository's packaging inputs and of the build caches."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = REPO_ROOT / "extension"
DOCKERFILE = REPO_ROOT / "Dockerfile.l4t"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
MANIFEST_TEMPLATE = REPO_ROOT / "manifest.json"
RUNTIME_REQUIREMENTS = REPO_ROOT / "requirements" / "runtime.txt"
SERVICE_PACKAGE = REPO_ROOT / "service" / "camera_service"


def cache_dir() -> Path:
    """Root of the build caches: $SPX_CACHE_DIR, $SPOT_CACHE_DIR, or <repo>/.cache."""
    default = os.environ.get("SPOT_CACHE_DIR", str(REPO_ROOT / ".cache"))
    return Path(os.environ.get("SPX_CACHE_DIR", default))
