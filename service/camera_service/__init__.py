"""Camera image service for Spot's CORE I/O.

The package's folders are the stages a frame passes through (bottom up; a lower stage never
imports a higher one): core/ (vocabulary), geometry/ and web/, sources/ (one module per kind
of camera), capture/ (capture threads, camera state, latest-frame store), encoding/ (an
output fitted to a frame, encode once per frame and output), serving/ (the ImageService:
servicer, request spec, descriptions, wire), robot/, config/, settings_page/ and calibrate/,
app/ (wiring, live apply), cli/. The owner of each state and the path of a GetImage request:
docs/architecture.md.
"""

from __future__ import annotations

from camera_service.core import process_env

__version__ = "0.1.0"

# Before any module of the package loads OpenCV or gRPC (see process_env).
process_env.apply_defaults()
