"""request_spec: an ImageRequest parsed once into the output it asks for and the controls it
sets - which outputs an 8-bit, thermal or depth source serves, the status for every
combination it cannot serve - and that output fitted to the frame served."""

from __future__ import annotations

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.api import service_customization_pb2 as sc
from camera_service.core.sixteen_bit import ViewSettings, profile_from_options
from camera_service.encoding.output_request import FormatChanged
from camera_service.serving.custom_params import CustomParamsError, spec_for
from camera_service.serving.request_spec import (
    Capabilities,
    RequestRejected,
    parse,
    served_pixel_formats,
)
from camera_service.sources.base import Control, Frame
from service_test_helpers import dict_params

Image = image_pb2.Image
Status = image_pb2.ImageResponse
THERMAL = profile_from_options({}, "visual", 16)
GREY_THERMAL = profile_from_options({"colormap": "none"}, "visual", 16)
DEPTH = profile_from_options({}, "depth", 16)
FRAME = Frame(1, 0.0, 64, 48, pixels=np.zeros((48, 64), np.uint16))


def resolve(profile, frame=FRAME, **fields):
    """The output ``fields`` ask of a source with ``profile`` (None: 8-bit) for ``frame``."""
    request = image_pb2.ImageRequest(image_source_name="cam", **fields)
    return parse(request, Capabilities(profile=profile, jpeg_quality=75)).output.fit(frame)


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
    spec = resolve(THERMAL, image_format=Image.FORMAT_RAW,
                   pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8, resize_ratio=0.5,
                   custom_params=dict_params(view_range="fixed", view_min=5, view_max=10))
    custom = ViewSettings(5, 10, "inferno")
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


JPEG_FRAME = Frame(1, 0.0, 64, 48, jpeg=b"\xff\xd8camera", jpeg_quality=60)
PIXEL_FRAME = Frame(1, 0.0, 64, 48, pixels=np.zeros((48, 64, 3), np.uint8))
CONTROLS = spec_for([Control("brightness", "int", 0, 0, minimum=-64, maximum=64, step=1)])


def test_eight_bit_defaults_and_refusals():
    assert resolve(None, PIXEL_FRAME).layout == "rgb"
    rgba = parse(image_pb2.ImageRequest(image_format=Image.FORMAT_RAW), Capabilities(channels=4))
    assert rgba.output.layout == "rgba"
    with pytest.raises(RequestRejected) as err:
        parse(image_pb2.ImageRequest(pixel_format=Image.PIXEL_FORMAT_RGBA_U8),
              Capabilities(channels=4))  # alpha only as RAW
    assert err.value.status == Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
    assert "use PIXEL_FORMAT_RGB_U8, PIXEL_FORMAT_GREYSCALE_U8" in str(err.value)
    with pytest.raises(RequestRejected) as err:
        resolve(None, PIXEL_FRAME, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U16)
    assert err.value.status == Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED


@pytest.mark.parametrize("asked, quality", [(0, 0), (90, 0), (float("nan"), 0)])
def test_a_full_size_colour_jpeg_is_the_cameras_bytes_whatever_its_quality(asked, quality):
    assert resolve(None, JPEG_FRAME, quality_percent=asked).quality == quality


@pytest.mark.parametrize("fields, quality", [
    ({"quality_percent": 0}, 60),  # the camera's own, estimated
    ({"quality_percent": 0.2}, 1), ({"quality_percent": float("inf")}, 100),
    ({"quality_percent": 40, "resize_ratio": 0.5}, 40),
])
def test_jpeg_quality_of_a_re_encode(fields, quality):
    request = image_pb2.ImageRequest(pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8, **fields)
    spec = parse(request, Capabilities(jpeg_quality=75, passthrough="never")).output
    assert spec.fit(JPEG_FRAME).quality == quality
    assert spec.fit(PIXEL_FRAME).quality == (75 if quality == 60 else quality)


def test_controls_are_validated_once_and_view_parameters_are_not_controls():
    request = image_pb2.ImageRequest(custom_params=dict_params(view_min=5, brightness=3))
    spec = parse(request, Capabilities(profile=THERMAL, controls=CONTROLS))
    assert spec.controls == {"brightness": 3} and spec.output.view is not None
    with pytest.raises(CustomParamsError) as err:  # an 8-bit source has no view
        parse(request, Capabilities(controls=CONTROLS))
    assert err.value.error.status == sc.CustomParamError.STATUS_UNSUPPORTED_PARAMETER
    with pytest.raises(CustomParamsError) as err:
        parse(image_pb2.ImageRequest(custom_params=dict_params(brightness=99)),
              Capabilities(controls=CONTROLS))
    assert err.value.error.status == sc.CustomParamError.STATUS_INVALID_VALUE
    assert parse(image_pb2.ImageRequest(), Capabilities(controls=CONTROLS)).controls == {}


def test_a_frame_of_the_other_kind_is_a_format_change():
    with pytest.raises(FormatChanged):
        resolve(THERMAL, PIXEL_FRAME)
    with pytest.raises(FormatChanged):
        resolve(None, FRAME)
