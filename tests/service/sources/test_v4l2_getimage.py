"""End to end with a fake USB camera: V4L2Source -> capture thread -> GetImage over real
gRPC. Native MJPEG passes through, device controls become custom parameters, and an
unplugged camera comes back without a restart."""

from __future__ import annotations

from bosdyn.api import image_pb2, service_customization_pb2
from camera_service.sources.base import SourceSettings
from camera_service.sources.v4l2.source import V4L2Source
from service_test_helpers import wait_for

from fake_cameras.v4l2_world import FakeCamera, FakeV4L2World

Image = image_pb2.Image
BRIGHTNESS_ID = 0x00980900


def get(service, **fields):
    request = image_pb2.GetImageRequest(image_requests=[image_pb2.ImageRequest(
        image_source_name="usb", image_format=Image.FORMAT_JPEG, **fields)])
    (response,) = service.stub.GetImage(request, timeout=10).image_responses
    return response


def test_usb_camera_end_to_end(local_service, tmp_path):
    world = FakeV4L2World(str(tmp_path))
    camera = world.plug(FakeCamera(paced=True))
    source = V4L2Source(
        SourceSettings("usb", width=640, height=480, fps=30,
                       options={"device": "usb-Logitech_HD_Pro_Webcam_C920_A1B2C3D4"
                                          "-video-index0"}),
        capture_factory=world.capture_factory, tree=world.tree(),
        control_device_factory=world.control_device_factory)
    service = local_service(source)

    response = get(service)
    assert response.status == image_pb2.ImageResponse.STATUS_OK
    assert response.shot.image.data in camera.sent_jpegs
    assert service.cache.encodes == 0

    listing = service.stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=5)
    specs = listing.image_sources[0].custom_params.specs
    brightness = specs["brightness"].spec.int_spec
    assert (brightness.min_value.value, brightness.max_value.value) == (-64, 64)
    assert list(specs["power_line_frequency"].spec.string_spec.options) == \
        ["Disabled", "50 Hz", "60 Hz"]

    params = service_customization_pb2.DictParam()
    params.values["brightness"].int_value.value = 20
    assert get(service, custom_params=params).status == image_pb2.ImageResponse.STATUS_OK
    assert camera.values[BRIGHTNESS_ID] == 20

    world.unplug(camera)
    wait_for(lambda: service.status("usb").failure, timeout=10)
    sent_before = len(camera.sent_jpegs)
    camera.values[BRIGHTNESS_ID] = 0  # a replugged camera starts from its defaults
    world.plug(FakeCamera(serial="OTHER", usb_port="2"))  # takes the old node numbers
    world.plug(camera)
    wait_for(lambda: len(camera.sent_jpegs) > sent_before + 2, timeout=15)
    assert get(service).shot.image.data in camera.sent_jpegs[sent_before:]
    assert camera.values[BRIGHTNESS_ID] == 20  # the client's setting survived the replug
