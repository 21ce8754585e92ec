"""Pre-serialized parts make the same GetImageResponse as building the message."""

from __future__ import annotations

from bosdyn.api import header_pb2, image_pb2
from camera_service.serving.wire import get_image_response


def test_assembled_bytes_parse_to_the_built_message():
    header = header_pb2.ResponseHeader()
    header.request_header.client_name = "tablet"
    header.error.code = header_pb2.CommonError.CODE_OK
    first = image_pb2.ImageResponse(status=image_pb2.ImageResponse.STATUS_OK)
    first.shot.image.data = bytes(range(256)) * 700  # a length needing a 3-byte varint
    first.shot.image.rows, first.shot.image.cols = 720, 1280
    second = image_pb2.ImageResponse(status=image_pb2.ImageResponse.STATUS_UNKNOWN_CAMERA)
    built = image_pb2.GetImageResponse(header=header, image_responses=[first, second])
    data = get_image_response(header, [first.SerializeToString(), second.SerializeToString()])
    assert image_pb2.GetImageResponse.FromString(data) == built
    assert image_pb2.GetImageResponse.FromString(get_image_response(header, [])) == \
        image_pb2.GetImageResponse(header=header)
