"""The floor: a bare Python gRPC ImageService answering one pre-serialized GetImageResponse.

It does the least any Python gRPC server can do for a GetImage: parse the request and send
bytes serialized once at start (a real response of the service under test, so the size is
the same). What the camera service spends above this at the same load is its own work.

``python -m bench.floor --port P --response FILE [--workers N]``; ``FloorProcess`` runs it as
a child process (its CPU time is its own) and measures it like ``bench.processes``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import List, Optional

import grpc
from bosdyn.api import image_pb2

from bench.processes import MeasuredProcess, free_port, terminate
from devtools.polling import wait_for

SERVICE = "bosdyn.api.ImageService"


def serve(port: int, response: bytes, workers: int) -> grpc.Server:
    """A started server on loopback ``port`` answering every GetImage with ``response``."""
    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "GetImage": grpc.unary_unary_rpc_method_handler(
            lambda request, context: response,
            request_deserializer=image_pb2.GetImageRequest.FromString,
            response_serializer=lambda data: data),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers),
                         options=[("grpc.max_send_message_length", 64 * 1024 * 1024),
                                  ("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler,))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"floor server: port {port} is in use")
    server.start()
    return server


class FloorProcess(MeasuredProcess):
    """``python -m bench.floor`` answering with the bytes in ``response_file``."""

    def __init__(self, response_file: Path, workers: int = 8) -> None:
        super().__init__()
        self.port = free_port()
        self.command = [sys.executable, "-m", "bench.floor", "--port", str(self.port),
                        "--response", str(response_file), "--workers", str(workers)]

    def __enter__(self) -> FloorProcess:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        wait_for(lambda: self.process.stdout.readline().startswith("floor ready")
                 or self.process.poll() is not None, 20, "floor server ready")
        if self.process.poll() is not None:
            raise RuntimeError("floor server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        terminate(self.process, 5.0)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--response", type=Path, required=True,
                        help="a serialized GetImageResponse to send for every GetImage")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    server = serve(args.port, args.response.read_bytes(), args.workers)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print("floor ready", flush=True)
    stopping.wait()
    server.stop(grace=0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
