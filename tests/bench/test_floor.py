"""The floor server answers every GetImage with exactly the bytes it was given."""

from __future__ import annotations

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc

from bench.clients import sdk_default_request
from bench.floor import serve
from bench.processes import free_port


def test_floor_sends_the_preserialized_response():
    canned = image_pb2.GetImageResponse()
    shot = canned.image_responses.add()
    shot.status = image_pb2.ImageResponse.STATUS_OK
    shot.shot.image.data = b"\xff\xd8" + bytes(range(256)) * 40
    port = free_port()
    server = serve(port, canned.SerializeToString(), workers=2)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = image_service_pb2_grpc.ImageServiceStub(channel)
            request = image_pb2.GetImageRequest(image_requests=[sdk_default_request("cam")])
            assert stub.GetImage(request, timeout=5) == canned
            assert stub.GetImage(request, timeout=5) == canned
    finally:
        server.stop(0)
