"""A control change sent in GetImage custom parameters is answered with a frame that shows
it, even from a camera whose driver keeps frames queued (Done-when of issue 22): the answer
is chosen by the frame's record of the controls in effect, not by guessing from serial
numbers. The fake camera paints ``128 + brightness`` into its top rows when it takes a
frame and keeps 4 frames queued in its driver, so the first 4 frames after a change still
show the old brightness."""

from __future__ import annotations

import numpy as np
from bosdyn.api import image_pb2, service_customization_pb2

from fake_cameras.v4l2_world import BRIGHTNESS_ROWS, FakeCamera, FakeV4L2World

Image = image_pb2.Image
QUEUED = 4
# Alternating values: every request changes the brightness, the previous value is the old one.
VALUES = [(-40 if index % 2 else 40) + index % 7 for index in range(100)]


def _request(brightness: int | None = None) -> image_pb2.GetImageRequest:
    request = image_pb2.ImageRequest(image_source_name="usb", image_format=Image.FORMAT_RAW,
                                     pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8)
    if brightness is not None:
        params = service_customization_pb2.DictParam()
        params.values["brightness"].int_value.value = brightness
        request.custom_params.CopyFrom(params)
    return image_pb2.GetImageRequest(image_requests=[request])


def _shown_brightness(response: image_pb2.ImageResponse) -> int:
    """The brightness the answer's frame was taken with (its top rows, grey)."""
    image = response.shot.image
    pixels = np.frombuffer(image.data, np.uint8).reshape(image.rows, image.cols)
    band = pixels[:BRIGHTNESS_ROWS]
    assert band.min() == band.max(), "the brightness rows are uniform"
    return int(band[0, 0]) - 128


def _camera(tmp_path):
    world = FakeV4L2World(str(tmp_path))
    camera = world.plug(FakeCamera(queued_buffers=QUEUED, shows_brightness=True, paced=True,
                                   modes={"YUYV": {(64, 48): 100.0}}))
    return camera, world.source(camera, name="usb", fps=100, format="YUYV")


def test_every_answer_to_a_brightness_change_shows_the_new_value(local_service, tmp_path):
    camera, source = _camera(tmp_path)
    service = local_service(source)
    assert source.queued_frames() == QUEUED
    (first,) = service.stub.GetImage(_request(), timeout=10).image_responses
    assert first.status == image_pb2.ImageResponse.STATUS_OK
    assert _shown_brightness(first) == 0
    shown = []
    for value in VALUES:
        (answer,) = service.stub.GetImage(_request(value), timeout=10).image_responses
        assert answer.status == image_pb2.ImageResponse.STATUS_OK
        shown.append(_shown_brightness(answer))
    old = [before for before, seen in zip([0, *VALUES], shown) if seen == before]
    assert (sum(seen == value for seen, value in zip(shown, VALUES)), len(old)) == (100, 0)
    assert camera.values[0x00980900] == VALUES[-1]
