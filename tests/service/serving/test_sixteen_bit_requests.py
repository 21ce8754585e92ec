"""sixteen_bit_requests: which outputs a thermal or depth source serves, and the status for
every combination it cannot serve."""

from __future__ import annotations

import numpy as np
import pytest
from bosdyn.api import image_pb2
from camera_service.core.sixteen_bit import ViewSettings, profile_from_options
from camera_service.serving.request_resolution import RequestRejected
from camera_service.serving.sixteen_bit_requests import resolve_sixteen_bit, served_pixel_formats
from camera_service.sources.base import Frame

Image = image_pb2.Image
Status = image_pb2.ImageResponse
THERMAL = profile_from_options({}, "visual", 16)
GREY_THERMAL = profile_from_options({"colormap": "none"}, "visual", 16)
DEPTH = profile_from_options({}, "depth", 16)
FRAME = Frame(1, 0.0, 64, 48, pixels=np.zeros((48, 64), np.uint16))


def resolve(profile, **fields):
    request = image_pb2.ImageRequest(image_source_name="cam", **fields)
    return resolve_sixteen_bit(request, FRAME, profile, 75)


def test_listed_pixel_formats():
    assert served_pixel_formats(THERMAL) == [Image.PIXEL_FORMAT_GREYSCALE_U16,
                                             Image.PIXEL_FORMAT_RGB_U8,
                                             Image.PIXEL_FORMAT_GREYSCALE_U8]
    assert served_pixel_formats(GREY_THERMAL)[1] == Image.PIXEL_FORMAT_GREYSCALE_U8
    assert served_pixel_formats(DEPTH)[0] == Image.PIXEL_FORMAT_DEPTH_U16


def test_defaults_are_the_values_for_raw_and_the_view_for_jpeg():
    raw = resolve(THERMAL, image_format=Image.FORMAT_RAW)
    assert (raw.layout, raw.view, raw.quality) == ("grey16", None, 0)
    jpeg = resolve(THERMAL, quality_percent=75)
    assert (jpeg.format, jpeg.layout, jpeg.view, jpeg.quality) == ("jpeg", "rgb",
                                                                   THERMAL.view, 75)
    assert resolve(GREY_THERMAL).layout == "grey"
    assert resolve(DEPTH, image_format=Image.FORMAT_RAW).layout == "depth16"
    assert resolve(DEPTH, quality_percent=0).quality == 75  # the source's jpeg_quality


def test_view_override_and_resize():
    custom = ViewSettings(5, 10)
    spec = resolve_sixteen_bit(image_pb2.ImageRequest(
        image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8,
        resize_ratio=0.5), FRAME, THERMAL, 75, view=custom)
    assert (spec.layout, spec.view, spec.width, spec.height) == ("grey", custom, 32, 24)


@pytest.mark.parametrize("profile, image_format, pixel_format, status", [
    (THERMAL, Image.FORMAT_JPEG, Image.PIXEL_FORMAT_GREYSCALE_U16, "PIXEL"),
    (THERMAL, Image.FORMAT_RAW, Image.PIXEL_FORMAT_DEPTH_U16, "PIXEL"),
    (THERMAL, Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGBA_U8, "PIXEL"),
    (THERMAL, Image.FORMAT_RAW, 99, "PIXEL"),
    (DEPTH, Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, "PIXEL"),
    (DEPTH, Image.FORMAT_RAW, Image.PIXEL_FORMAT_GREYSCALE_U16, "PIXEL"),
    (DEPTH, Image.FORMAT_JPEG, Image.PIXEL_FORMAT_DEPTH_U16, "PIXEL"),
    (DEPTH, Image.FORMAT_RLE, Image.PIXEL_FORMAT_DEPTH_U16, "IMAGE"),
])
def test_refusals(profile, image_format, pixel_format, status):
    with pytest.raises(RequestRejected) as err:
        resolve(profile, image_format=image_format, pixel_format=pixel_format)
    expected = {"PIXEL": Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
                "IMAGE": Status.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED}[status]
    assert err.value.status == expected
    assert "use " in str(err.value) or status == "IMAGE"


def test_jpeg_refusal_points_at_the_raw_values():
    with pytest.raises(RequestRejected, match="FORMAT_RAW with PIXEL_FORMAT_DEPTH_U16"):
        resolve(DEPTH, image_format=Image.FORMAT_JPEG,
                pixel_format=Image.PIXEL_FORMAT_DEPTH_U16)


def test_resize_ratio_out_of_range():
    with pytest.raises(RequestRejected) as err:
        resolve(THERMAL, image_format=Image.FORMAT_RAW, resize_ratio=-0.5)
    assert err.value.status == Status.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED
