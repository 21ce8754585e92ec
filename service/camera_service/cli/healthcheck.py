"""``python -m camera_service.cli.healthcheck [--port N] [--host H]``: exit 0 when the local
service answers ListImageSources within 3 s, else exit 1 with one line on stderr.

The port defaults to ``$CAMERA_SERVICE_PORT`` or 21230 (the service's default).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc

from camera_service.config.model import DEFAULT_PORT
from camera_service.core.redaction import scrub

TIMEOUT = 3.0


def check(host: str, port: int, timeout: float = TIMEOUT) -> str:
    """Ask the service for its sources; returns a one-line summary, raises
    ``grpc.RpcError`` when it does not answer."""
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        stub = image_service_pb2_grpc.ImageServiceStub(channel)
        response = stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=timeout)
    names = [source.name for source in response.image_sources]
    return f"ok: {len(names)} source(s): {', '.join(names)}"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_service.cli.healthcheck")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("CAMERA_SERVICE_PORT", DEFAULT_PORT)))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    try:
        print(scrub(check(args.host, args.port)))
        return 0
    except grpc.RpcError as err:
        print(f"unhealthy: camera service at {args.host}:{args.port} did not answer "
              f"ListImageSources within {TIMEOUT:g} s ({err.code().name})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
