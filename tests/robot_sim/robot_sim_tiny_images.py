"""A tiny real ImageService for the robot simulator tests to register and route to."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc

JPEG_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-payload\xff\xd9"
SOURCE_NAME = "tiny-camera"


def _ok_header(response, request) -> None:
    response.header.request_header.CopyFrom(request.header)
    response.header.error.code = header_pb2.CommonError.CODE_OK


class TinyImageService(image_service_pb2_grpc.ImageServiceServicer):
    """One JPEG source; counts GetImage calls and remembers the metadata it saw.

    ``delay_seconds`` slows GetImage down (a camera that takes its time).
    """

    def __init__(self) -> None:
        self.delay_seconds = 0.0
        self.get_image_calls = 0
        self.last_metadata = {}
        self._lock = threading.Lock()

    def ListImageSources(self, request, context):
        response = image_pb2.ListImageSourcesResponse()
        source = response.image_sources.add(name=SOURCE_NAME, rows=2, cols=3)
        source.image_type = image_pb2.ImageSource.IMAGE_TYPE_VISUAL
        source.image_formats.append(image_pb2.Image.FORMAT_JPEG)
        _ok_header(response, request)
        return response

    def GetImage(self, request, context):
        time.sleep(self.delay_seconds)
        with self._lock:
            self.get_image_calls += 1
            self.last_metadata = dict(context.invocation_metadata())
        response = image_pb2.GetImageResponse()
        for image_request in request.image_requests:
            out = response.image_responses.add()
            if image_request.image_source_name != SOURCE_NAME:
                out.status = image_pb2.ImageResponse.STATUS_UNKNOWN_CAMERA
                continue
            out.status = image_pb2.ImageResponse.STATUS_OK
            out.source.name = SOURCE_NAME
            out.shot.image.data = JPEG_BYTES
            out.shot.image.format = image_pb2.Image.FORMAT_JPEG
            out.shot.image.rows, out.shot.image.cols = 2, 3
        _ok_header(response, request)
        return response


class ImageServer:
    """A running TinyImageService on a loopback port."""

    def __init__(self, port: int = 0) -> None:
        self.servicer = TinyImageService()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        image_service_pb2_grpc.add_ImageServiceServicer_to_server(self.servicer, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()
