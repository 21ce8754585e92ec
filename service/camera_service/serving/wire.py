"""A ``GetImageResponse`` assembled from pre-serialized parts, without re-serializing them.

Protobuf's wire format is a concatenation of fields, so a response made of a header and
``ImageResponse``s serialized earlier is those bytes, each behind its field tag and length.
The servicer keeps one serialized ``ImageResponse`` per (frame, output) and sends it to
every client with only the per-call header serialized anew.
"""

from __future__ import annotations

from typing import Sequence

from bosdyn.api import header_pb2, image_pb2

_FIELDS = image_pb2.GetImageResponse.DESCRIPTOR.fields_by_name
_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(name: str) -> bytes:
    return _varint(_FIELDS[name].number << 3 | _LENGTH_DELIMITED)


_HEADER_TAG = _tag("header")
_IMAGE_TAG = _tag("image_responses")


def get_image_response(header: header_pb2.ResponseHeader, image_responses: Sequence[bytes]
                       ) -> bytes:
    """The serialized ``GetImageResponse`` of ``header`` and the serialized
    ``image_responses`` (in order); parses to the same message as building it would."""
    head = header.SerializeToString()
    parts = [_HEADER_TAG, _varint(len(head)), head]
    for image in image_responses:
        parts += [_IMAGE_TAG, _varint(len(image)), image]
    return b"".join(parts)
