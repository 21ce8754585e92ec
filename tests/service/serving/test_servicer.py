"""ImageService over real gRPC: listing, formats, every status, custom parameters."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2, service_customization_pb2
from camera_service.sources.base import SourceSettings
from camera_service.sources.synthetic import SyntheticSource
from service_test_helpers import synthetic, wait_for

from fake_cameras.failing_camera import FailingCamera

Image = image_pb2.Image
Resp = image_pb2.ImageResponse


def _get(service, *requests):
    reply = service.stub.GetImage(image_pb2.GetImageRequest(image_requests=list(requests)),
                                  timeout=10)
    assert reply.header.error.code == reply.header.error.CODE_OK
    return list(reply.image_responses)


def _req(name="cam", **fields):
    return image_pb2.ImageRequest(image_source_name=name, **fields)


def test_list_image_sources_describes_each_source(local_service):
    service = local_service(synthetic("colour", width=96, height=64),
                            synthetic("alpha", native_jpeg=False, pixel_format="bgra"))
    reply = service.stub.ListImageSources(image_pb2.ListImageSourcesRequest(), timeout=5)
    sources = {s.name: s for s in reply.image_sources}
    colour = sources["colour"]
    assert (colour.cols, colour.rows) == (96, 64)
    assert colour.image_type == image_pb2.ImageSource.IMAGE_TYPE_VISUAL
    assert set(colour.image_formats) == {Image.FORMAT_JPEG, Image.FORMAT_RAW}
    assert set(colour.pixel_formats) == {Image.PIXEL_FORMAT_RGB_U8,
                                         Image.PIXEL_FORMAT_GREYSCALE_U8}
    assert Image.PIXEL_FORMAT_RGBA_U8 in sources["alpha"].pixel_formats
    brightness = colour.custom_params.specs["brightness"].spec.int_spec
    assert (brightness.min_value.value, brightness.max_value.value) == (-64, 64)
    assert brightness.default_value.value == 0
    assert colour.custom_params.specs["pattern"].spec.string_spec.options == ["bars", "black"]


def test_default_request_passes_the_cameras_jpeg_through(local_service):
    service = local_service(synthetic(jpeg_quality=60, fps=1))
    (response,) = _get(service, _req())
    assert response.status == Resp.STATUS_OK
    image = response.shot.image
    assert image.format == Image.FORMAT_JPEG and image.pixel_format == Image.PIXEL_FORMAT_RGB_U8
    assert (image.cols, image.rows) == (64, 48)
    assert image.data == service.store.latest("cam").frame.jpeg
    assert service.cache.encodes == 0 and service.cache.passthroughs == 1
    assert response.shot.acquisition_time.seconds > 0


@pytest.mark.parametrize(("pixel_format", "channels"), [
    (Image.PIXEL_FORMAT_RGB_U8, 3), (Image.PIXEL_FORMAT_GREYSCALE_U8, 1)])
def test_raw_from_native_jpeg_with_resize(local_service, pixel_format, channels):
    service = local_service(synthetic())
    (response,) = _get(service, _req(image_format=Image.FORMAT_RAW, pixel_format=pixel_format,
                                     resize_ratio=0.5))
    image = response.shot.image
    assert response.status == Resp.STATUS_OK
    assert (image.cols, image.rows, image.pixel_format) == (32, 24, pixel_format)
    assert len(image.data) == 32 * 24 * channels


def test_rgba_only_where_the_camera_gives_alpha(local_service):
    service = local_service(synthetic("plain"),
                            synthetic("alpha", native_jpeg=False, pixel_format="bgra"))
    rgba = dict(image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_RGBA_U8)
    plain, alpha = _get(service, _req("plain", **rgba), _req("alpha", **rgba))
    assert plain.status == Resp.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
    assert alpha.status == Resp.STATUS_OK and len(alpha.shot.image.data) == 64 * 48 * 4


def test_jpeg_quality_changes_the_bytes_and_is_encoded_once(local_service):
    service = local_service(synthetic(jpeg_quality=75, fps=1, jpeg_passthrough="never"))
    low, again = _get(service, _req(quality_percent=10), _req(quality_percent=10))
    (high,) = _get(service, _req(quality_percent=95))
    assert len(low.shot.image.data) < len(high.shot.image.data)
    assert again.shot.image.data == low.shot.image.data
    decoded = cv2.imdecode(np.frombuffer(low.shot.image.data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (48, 64, 3)
    assert service.cache.encodes == 2  # quality 10 once for both requests, quality 95 once


def test_error_statuses_never_fail_the_rpc(local_service):
    service = local_service(synthetic())
    bad_params = service_customization_pb2.DictParam()
    bad_params.values["brightness"].int_value.value = 999
    unknown_param = service_customization_pb2.DictParam()
    unknown_param.values["zoom"].int_value.value = 1
    responses = _get(
        service,
        _req("nope"),
        _req(resize_ratio=1.5),
        _req(resize_ratio=-0.1),
        _req(image_format=Image.FORMAT_RLE),
        _req(pixel_format=Image.PIXEL_FORMAT_DEPTH_U16),
        _req(image_format=Image.FORMAT_JPEG, pixel_format=Image.PIXEL_FORMAT_RGBA_U8),
        _req(custom_params=bad_params),
        _req(custom_params=unknown_param),
        _req(),
    )
    assert [r.status for r in responses] == [
        Resp.STATUS_UNKNOWN_CAMERA,
        Resp.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        Resp.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        Resp.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
        Resp.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        Resp.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        Resp.STATUS_CUSTOM_PARAMS_ERROR,
        Resp.STATUS_CUSTOM_PARAMS_ERROR,
        Resp.STATUS_OK,
    ]
    for response in responses[:-1]:
        assert response.custom_param_error.error_messages, response.status
        assert not response.shot.image.data
    assert "nope" in responses[0].custom_param_error.error_messages[0]
    assert responses[7].custom_param_error.status == (
        service_customization_pb2.CustomParamError.STATUS_UNSUPPORTED_PARAMETER)


def test_rle_falls_back_to_a_listed_fallback_format(local_service):
    service = local_service(synthetic())
    (response,) = _get(service, _req(image_format=Image.FORMAT_RLE,
                                     fallback_formats=[Image.FORMAT_RAW]))
    assert response.status == Resp.STATUS_OK
    assert response.shot.image.format == Image.FORMAT_RAW


def test_custom_param_applies_to_the_camera_for_every_client(local_service):
    source = synthetic(native_jpeg=False)
    service = local_service(source)
    raw = dict(image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8)
    (before,) = _get(service, _req(**raw))
    params = service_customization_pb2.DictParam()
    params.values["brightness"].int_value.value = 50
    (changed,) = _get(service, _req(custom_params=params, **raw))
    (other_client,) = _get(service, _req(**raw))

    def mean(response):
        return np.frombuffer(response.shot.image.data, np.uint8).mean()

    assert changed.status == Resp.STATUS_OK
    assert mean(changed) > mean(before) + 20
    assert mean(other_client) > mean(before) + 20
    assert {c.name: c.value for c in source.controls()}["brightness"] == 50


def test_a_request_changing_a_control_is_parsed_and_validated_once(local_service,
                                                                   monkeypatch):
    from camera_service.serving import request_spec

    source = synthetic(native_jpeg=False)
    service = local_service(source)
    parsed, validated = [], []
    real_parse, real_values = request_spec.parse, request_spec.requested_values
    monkeypatch.setattr(request_spec, "parse", lambda *args: parsed.append(1) or
                        real_parse(*args))
    monkeypatch.setattr(request_spec, "requested_values", lambda *args: validated.append(1) or
                        real_values(*args))
    params = service_customization_pb2.DictParam()
    params.values["brightness"].int_value.value = 50
    (changed,) = _get(service, _req(custom_params=params, image_format=Image.FORMAT_RAW))
    assert changed.status == Resp.STATUS_OK
    assert {c.name: c.value for c in source.controls()}["brightness"] == 50
    assert (len(parsed), len(validated)) == (1, 1)  # a later frame served, not re-resolved


class _HeldCamera(SyntheticSource):
    """A synthetic camera whose next ``read`` can be held after it has taken its picture (the
    controls as they were), like a frame under way while a client changes a setting."""

    def __init__(self, settings: SourceSettings) -> None:
        super().__init__(settings)
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def read(self):
        frame = super().read()
        if self.hold.is_set():
            self.hold.clear()
            self.holding.set()
            self.release.wait(30)
        return frame


def test_custom_param_is_never_answered_with_a_frame_taken_before_the_change(local_service):
    # 5 fps: the frame after the held one comes well after the request has seen the held one
    source = _HeldCamera(SourceSettings("cam", width=64, height=48, fps=5,
                                        options={"native_jpeg": False}))
    service = local_service(source)
    raw = dict(image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8)
    (before,) = _get(service, _req(**raw))
    source.hold.set()
    assert source.holding.wait(30)  # a frame with brightness 0 is under way
    params = service_customization_pb2.DictParam()
    params.values["brightness"].int_value.value = 50
    answers = []
    client = threading.Thread(target=lambda: answers.extend(
        _get(service, _req(custom_params=params, **raw))))
    client.start()
    wait_for(lambda: {c.name: c.value for c in source.controls()}["brightness"] == 50,
             timeout=30, what="the brightness set")
    source.release.set()  # the old frame is stored now, after the change
    client.join(30)
    (changed,) = answers
    mean = [np.frombuffer(r.shot.image.data, np.uint8).mean() for r in (before, changed)]
    assert changed.status == Resp.STATUS_OK and mean[1] > mean[0] + 20


def test_failing_source_answers_image_data_error_at_once(local_service):
    source = FailingCamera(SourceSettings("cam", width=64, height=48, fps=50))
    service = local_service(source)
    source.stop_delivering()
    wait_for(lambda: service.status("cam").failure)
    (response,) = _get(service, _req())
    assert response.status == Resp.STATUS_IMAGE_DATA_ERROR
    assert "cam" in response.custom_param_error.error_messages[0]
    source.resume()
    wait_for(lambda: service.store.latest("cam"))
    assert _get(service, _req())[0].status == Resp.STATUS_OK


def test_several_sources_in_one_request(local_service):
    service = local_service(synthetic("a"), synthetic("b", width=32, height=32))
    a, b = _get(service, _req("a"), _req("b"))
    assert (a.source.name, b.source.name) == ("a", "b")
    assert (b.shot.image.cols, b.shot.image.rows) == (32, 32)


def test_concurrent_clients_cause_one_encode_per_frame(local_service):
    service = local_service(synthetic(fps=5, width=320, height=240))
    request = _req(image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_RGB_U8)
    barrier = threading.Barrier(6)
    statuses = []

    def client():
        barrier.wait()
        for _ in range(5):
            statuses.append(_get(service, request)[0].status)

    threads = [threading.Thread(target=client) for _ in range(6)]
    frames_before = service.store.latest("cam").serial
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frames_seen = service.store.latest("cam").serial - frames_before + 1
    assert statuses == [Resp.STATUS_OK] * 30
    assert service.cache.encodes <= frames_seen
    assert service.cache.hits >= 30 - frames_seen


def test_an_internal_error_answers_that_image_only(local_service, monkeypatch):
    service = local_service(synthetic("a"), synthetic("b"))
    real_get = service.cache.get

    def broken_for_b(stored, spec):
        if stored.source == "b":
            raise ZeroDivisionError("bug")
        return real_get(stored, spec)

    monkeypatch.setattr(service.cache, "get", broken_for_b)
    a, b = _get(service, _req("a"), _req("b"))
    assert a.status == Resp.STATUS_OK
    assert b.status == Resp.STATUS_IMAGE_DATA_ERROR
    assert "ZeroDivisionError" in b.custom_param_error.error_messages[0]
