"""Thermal and depth cameras end to end: fake V4L2 nodes offering Y16, Y16 big-endian and Z16
next to an 8-bit webcam -> V4L2Source -> the whole CameraService -> the robot simulator ->
the SDK's ImageClient, the way the tablet and Data Acquisition reach a payload.

The values are decoded with the SDK's own dtype per pixel format
(``bosdyn.client.image.pixel_format_to_numpy_type``: GREYSCALE_U16 big-endian, DEPTH_U16
little-endian) and must equal, bit for bit, a ramp frame the fake camera sent."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.exceptions import CustomParamError
from bosdyn.client.image import (
    UnsupportedImageFormatRequestedError,
    UnsupportedPixelFormatRequestedError,
    UnsupportedResizeRatioRequestedError,
    build_image_request,
    pixel_format_to_numpy_type,
)
from camera_service.app.service import CameraService
from service_test_helpers import dict_params as view_params
from service_test_helpers import image_client, service_config, wait_for

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World, depth_camera, thermal_camera

Image = image_pb2.Image
ImageSource = image_pb2.ImageSource


@pytest.fixture
def cameras(tmp_path):
    world = FakeV4L2World(str(tmp_path))
    plugged = {"thermal": world.plug(thermal_camera(paced=True)),
               "thermal-be": world.plug(thermal_camera(big_endian=True, paced=True)),
               "depth": world.plug(depth_camera(paced=True)),
               "webcam": world.plug(FakeCamera(paced=True))}
    options = {"thermal": {"range": {"min": 10000, "max": 50000}},
               "thermal-be": {"format": "Y16_BE", "colormap": "none"},
               "depth": {"depth_scale": 4000}, "webcam": {}}
    sources = [world.source(camera, name, fps=30, **options[name])
               for name, camera in plugged.items()]
    return plugged, sources


@pytest.fixture
def client(robot_sim, cameras):
    service = CameraService(service_config(robot_sim, []), sources=cameras[1])
    service.start()
    try:
        for name in cameras[0]:
            wait_for(lambda name=name: service.store.latest(name))
        yield image_client(robot_sim)[1]
    finally:
        service.stop()


def raw(client, name, pixel_format, custom_params=None, **fields):
    request = build_image_request(name, image_format=Image.FORMAT_RAW,
                                  pixel_format=pixel_format, **fields)
    if custom_params is not None:
        request.custom_params.CopyFrom(custom_params)
    (response,) = client.get_image([request])
    return response


def values_of(response):
    """The values as an SDK client reads them."""
    image = response.shot.image
    dtype = pixel_format_to_numpy_type(image.pixel_format)
    return np.frombuffer(image.data, dtype).reshape(image.rows, image.cols)


def was_sent(values, camera):
    return any(np.array_equal(values, sent) for sent in list(camera.sent_values))


def test_sources_list_what_they_serve(client):
    listed = {source.name: source for source in client.list_image_sources()}
    thermal, depth, webcam = listed["thermal"], listed["depth"], listed["webcam"]
    assert thermal.image_type == ImageSource.IMAGE_TYPE_VISUAL
    assert list(thermal.pixel_formats) == [Image.PIXEL_FORMAT_GREYSCALE_U16,
                                           Image.PIXEL_FORMAT_RGB_U8,
                                           Image.PIXEL_FORMAT_GREYSCALE_U8]
    assert list(listed["thermal-be"].pixel_formats)[1] == Image.PIXEL_FORMAT_GREYSCALE_U8
    assert (depth.image_type, depth.depth_scale) == (ImageSource.IMAGE_TYPE_DEPTH, 4000.0)
    assert list(depth.pixel_formats) == [Image.PIXEL_FORMAT_DEPTH_U16, Image.PIXEL_FORMAT_RGB_U8,
                                         Image.PIXEL_FORMAT_GREYSCALE_U8]
    assert (thermal.cols, thermal.rows, depth.cols, depth.rows) == (640, 512, 640, 480)
    assert Image.PIXEL_FORMAT_GREYSCALE_U16 not in webcam.pixel_formats
    assert webcam.depth_scale == 0 and thermal.depth_scale == 0
    for source in listed.values():
        assert Image.FORMAT_JPEG in source.image_formats  # the tablet shows every one


@pytest.mark.parametrize("name", ["thermal", "thermal-be"])
def test_thermal_ramp_round_trips_big_endian(client, cameras, name):
    response = raw(client, name, Image.PIXEL_FORMAT_GREYSCALE_U16)
    image = response.shot.image
    assert (image.format, image.pixel_format) == (Image.FORMAT_RAW,
                                                  Image.PIXEL_FORMAT_GREYSCALE_U16)
    values = values_of(response)
    assert was_sent(values, cameras[0][name])
    assert image.data == values.astype(">u2").tobytes()  # the proto's byte order
    assert len(image.data) == 640 * 512 * 2


def test_depth_ramp_round_trips_little_endian_with_its_scale(client, cameras):
    response = raw(client, "depth", Image.PIXEL_FORMAT_DEPTH_U16)
    values = values_of(response)
    assert was_sent(values, cameras[0]["depth"])
    assert response.shot.image.data == values.astype("<u2").tobytes()
    assert response.source.depth_scale == 4000.0
    half = values_of(raw(client, "depth", Image.PIXEL_FORMAT_DEPTH_U16, resize_ratio=0.5))
    assert half.shape == (240, 320)
    sent = list(cameras[0]["depth"].sent_values)
    assert any(np.array_equal(half, frame[::2, ::2]) for frame in sent)


def test_jpeg_view_for_the_tablet(client):
    for name, channels in (("thermal", 3), ("thermal-be", 1), ("depth", 3)):
        (response,) = client.get_image([build_image_request(name)])  # SDK default: JPEG 75
        image = response.shot.image
        assert image.format == Image.FORMAT_JPEG
        decoded = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert decoded.dtype == np.uint8 and (image.cols, image.rows) == (decoded.shape[1],
                                                                          decoded.shape[0])
        assert (decoded.ndim == 3) == (channels == 3)
        assert image.pixel_format == (Image.PIXEL_FORMAT_RGB_U8 if channels == 3
                                      else Image.PIXEL_FORMAT_GREYSCALE_U8)


def test_grey_view_follows_the_configured_range(client, cameras):
    response = raw(client, "thermal", Image.PIXEL_FORMAT_GREYSCALE_U8)
    grey = np.frombuffer(response.shot.image.data, np.uint8).reshape(512, 640)
    def stretched(values):  # min 10000 -> 0, max 50000 -> 255, linear between
        return np.clip((values.astype(float) - 10000) * 255 / 40000, 0, 255)

    sent = next(s for s in list(cameras[0]["thermal"].sent_values)
                if np.abs(stretched(s) - grey).max() <= 1)
    assert (sent <= 10000).any() and (grey[sent <= 10000] == 0).all()
    assert (grey[sent >= 50000] == 255).all()


def test_impossible_requests_get_their_status(client):
    def ask(name, image_format=Image.FORMAT_RAW, **fields):
        client.get_image([build_image_request(name, image_format=image_format, **fields)])

    with pytest.raises(UnsupportedPixelFormatRequestedError):  # JPEG cannot hold 16 bits
        ask("thermal", Image.FORMAT_JPEG, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U16)
    with pytest.raises(UnsupportedPixelFormatRequestedError):
        ask("thermal", pixel_format=Image.PIXEL_FORMAT_DEPTH_U16)
    with pytest.raises(UnsupportedPixelFormatRequestedError):  # the depth view is not data
        ask("depth", pixel_format=Image.PIXEL_FORMAT_RGB_U8)
    with pytest.raises(UnsupportedPixelFormatRequestedError):
        ask("depth", pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U16)
    with pytest.raises(UnsupportedPixelFormatRequestedError):
        ask("webcam", pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U16)
    with pytest.raises(UnsupportedPixelFormatRequestedError):
        ask("thermal", pixel_format=Image.PIXEL_FORMAT_RGBA_U8)
    with pytest.raises(UnsupportedImageFormatRequestedError):
        ask("depth", Image.FORMAT_RLE)
    with pytest.raises(UnsupportedResizeRatioRequestedError):
        ask("thermal", pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U16, resize_ratio=1.5)


def test_the_jpeg_view_follows_the_requested_range(client, cameras):
    (source,) = [s for s in client.list_image_sources() if s.name == "thermal"]
    assert source.custom_params.specs["view_min"].spec.int_spec.default_value.value == 10000

    def view(**values):
        request = build_image_request("thermal", quality_percent=90)
        request.custom_params.CopyFrom(view_params(**values))
        (response,) = client.get_image([request])
        data = np.frombuffer(response.shot.image.data, np.uint8)
        return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)

    default = view()
    narrow = view(view_range="fixed", view_min=30000, view_max=31000, view_colormap="none")
    auto = view(view_range="auto", view_colormap="none")
    assert default.ndim == 3 and narrow.ndim == 2  # inferno from the config; grey asked
    # 30000..31000 is a thin slice of the ramp: almost everything is black or white
    assert np.mean((narrow < 16) | (narrow > 240)) > 0.9
    assert np.mean((auto < 16) | (auto > 240)) < 0.2  # the whole ramp, stretched
    values = values_of(raw(client, "thermal", Image.PIXEL_FORMAT_GREYSCALE_U16,
                           custom_params=view_params(view_min=1, view_max=2)))
    assert was_sent(values, cameras[0]["thermal"])  # RAW values never depend on the view
    with pytest.raises(CustomParamError, match="must be greater"):
        view(view_min=40000, view_max=20000)
    webcam = build_image_request("webcam")
    webcam.custom_params.CopyFrom(view_params(view_min=1))
    with pytest.raises(CustomParamError, match="unknown parameter"):  # 8-bit: no view
        client.get_image([webcam])
