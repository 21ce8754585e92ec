"""Camera image service for Spot's CORE I/O.

The path of a frame through the package:

    sources/    one module per kind of camera (synthetic, v4l2, url, file) -> Frame objects
    pipeline/   capture.py (one thread per source) -> frame_store.py (latest frame)
                -> output_cache.py (encode once per frame and output) + encoding.py
    imaging/    servicer.py (ListImageSources, GetImage), request_resolution.py (request ->
                output or status), custom_params.py (camera controls as custom parameters)
    robot/      credentials, session (payload auth), registration (directory keep-alive),
                faults, time_sync, link.py (the thread that keeps all of them going)
    app.py      wiring, start/stop, signals;  config.py + cli.py  configuration and flags;
    healthcheck.py  the container's health probe
"""

from __future__ import annotations

from camera_service.core import process_env

__version__ = "0.1.0"

# Before any module of the package loads OpenCV or gRPC (see process_env).
process_env.apply_defaults()
