"""``python -m camera_service.cli.healthcheck [--port N | --config FILE] [--host H]``: exit 0
when the local service answers ListImageSources within 3 s, else exit 1 with one line on
stderr.

The port: ``--port``, else ``$CAMERA_SERVICE_PORT``, else ``service.port`` of the config
file the service runs with (``--config``; the extension's compose file gives
``/config/config.yaml``, so an operator's port change needs no compose change), else 21230
(the service's default). A config file that cannot be read gives the default port: the
healthcheck reports on the service, the service itself reports config errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc

from camera_service.config.model import DEFAULT_PORT
from camera_service.config.yaml_file import read_yaml
from camera_service.core.errors import ConfigError
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


def configured_port(config_file: Optional[str]) -> int:
    """``service.port`` of ``config_file`` when it holds a valid one, else the default."""
    if not config_file:
        return DEFAULT_PORT
    try:
        data = read_yaml(config_file)
    except (ConfigError, OSError):
        return DEFAULT_PORT
    service = data.get("service") if isinstance(data, dict) else None
    port = service.get("port") if isinstance(service, dict) else None
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        return port
    return DEFAULT_PORT


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_service.cli.healthcheck")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, help="the service's port (default: "
                       "$CAMERA_SERVICE_PORT, else the config file's service.port, else "
                       f"{DEFAULT_PORT})")
    where.add_argument("--config", metavar="FILE", help="the config file the service runs "
                       "with: its service.port is asked")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    if args.port is None:
        env = os.environ.get("CAMERA_SERVICE_PORT", "")
        args.port = int(env) if env.isdigit() else configured_port(args.config)
    try:
        print(scrub(check(args.host, args.port)))
        return 0
    except grpc.RpcError as err:
        print(f"unhealthy: camera service at {args.host}:{args.port} did not answer "
              f"ListImageSources within {TIMEOUT:g} s ({err.code().name})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
