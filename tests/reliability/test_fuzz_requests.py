"""Abuse: hypothesis-generated GetImage and ListImageSources requests.

Whatever a client sends - unknown or huge source names, any enum number as format or pixel
format, qualities and resize ratios including NaN, infinities and negatives, custom
parameters with unknown keys, wrong types, out-of-range or missing values - the service
answers within the deadline, never fails the RPC, and every ImageResponse carries a status
the input calls for: OK only for a request that can be served, and for a request that
cannot, one of the errors its faults explain.
"""

from __future__ import annotations

import math
from typing import Set

import grpc
import pytest
from bosdyn.api import header_pb2, image_pb2
from bosdyn.api import service_customization_pb2 as sc
from camera_service.serving.request_guard import MAX_NAME_CHARS
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reliability_support import RunningService, config_mapping, synthetic

from devtools.polling import wait_for
from robot_sim import RobotSimulator

Image = image_pb2.Image
Resp = image_pb2.ImageResponse
DEADLINE = 10.0

# name -> channels delivered; "dead" is switched off for the whole module
SOURCES = {"cam": 3, "raw": 3, "grey": 1, "alpha": 4, "dead": 3}
JPEG_LAYOUTS = {Image.PIXEL_FORMAT_UNKNOWN, Image.PIXEL_FORMAT_RGB_U8,
                Image.PIXEL_FORMAT_GREYSCALE_U8}
# the synthetic camera's controls: name -> (kind, minimum, maximum, choices)
CONTROLS = {"brightness": ("int", -64, 64, None), "contrast": ("int", 0, 64, None),
            "gain": ("double", 0.0, 4.0, None), "mirror": ("bool", None, None, None),
            "pattern": ("string", None, None, ("bars", "black"))}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    # "cam" is calibrated and mounted: the geometry paths see every request too
    geometry = {"intrinsics": {"fx": 140.0, "fy": 140.0, "cx": 79.5, "cy": 59.5,
                               "model": "pinhole_brown_conrady",
                               "coefficients": [-0.2, 0.05, 0.0, 0.0, 0.0]},
                "mount": {"parent": "body", "xyz": [0.3, 0.0, 0.1], "rpy_deg": [-90, 0, -90]}}
    sources = [synthetic("cam", **geometry), synthetic("raw", native_jpeg=False),
               synthetic("grey", native_jpeg=False, pixel_format="grey"),
               synthetic("alpha", native_jpeg=False, pixel_format="bgra"), synthetic("dead")]
    with RobotSimulator(state_dir=tmp_path_factory.mktemp("robot")) as sim:
        running = RunningService(config_mapping(sim, sources))
        running.source("dead").stop_delivering()
        wait_for(lambda: running.service.status("dead").failure)
        for name in SOURCES:
            if name != "dead":
                wait_for(lambda name=name: running.service.store.latest(name))
        yield running
        running.stop()


# -- strategies ----------------------------------------------------------------------------
enum_numbers = st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, 1.0, 0.5, -0.0, 1e-300, 1.0000001, -1.0]))
names = st.one_of(st.sampled_from(sorted(SOURCES)), st.text(max_size=40),
                  st.builds(lambda n: "x" * n, st.integers(0, 200_000)))


@st.composite
def custom_param(draw) -> sc.CustomParam:
    param = sc.CustomParam()
    kind = draw(st.sampled_from(["int", "double", "bool", "string", "none", "dict"]))
    if kind == "int":
        param.int_value.value = draw(st.one_of(st.integers(-100, 100),
                                               st.integers(-(2**63), 2**63 - 1)))
    elif kind == "double":
        param.double_value.value = draw(floats)
    elif kind == "bool":
        param.bool_value.value = draw(st.booleans())
    elif kind == "string":
        param.string_value.value = draw(st.one_of(st.sampled_from(["bars", "black"]),
                                                  st.text(max_size=20)))
    elif kind == "dict":
        param.dict_value.values["nested"].int_value.value = 1
    return param


params_keys = st.one_of(st.sampled_from(sorted(CONTROLS)), st.text(max_size=30))
custom_params = st.one_of(st.none(), st.dictionaries(params_keys, custom_param(), max_size=4))


valid_params = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "brightness": st.builds(lambda v: sc.CustomParam(int_value={"value": v}),
                            st.integers(-64, 64)),
    "mirror": st.builds(lambda v: sc.CustomParam(bool_value={"value": v}), st.booleans()),
    "pattern": st.builds(lambda v: sc.CustomParam(string_value={"value": v}),
                         st.sampled_from(["bars", "black"]))}))


@st.composite
def image_requests(draw) -> image_pb2.ImageRequest:
    """Half wild (anything a client could put on the wire), half plausible (mostly valid,
    so that OK answers are checked too)."""
    wild = draw(st.booleans())
    request = image_pb2.ImageRequest(
        image_source_name=draw(names if wild else st.sampled_from(sorted(SOURCES))))
    request.quality_percent = draw(floats if wild else st.floats(0, 100))
    request.image_format = draw(enum_numbers if wild else st.integers(0, 3))
    request.fallback_formats.extend(draw(st.lists(enum_numbers, max_size=3)))
    request.pixel_format = draw(enum_numbers if wild else st.sampled_from([0, 1, 3, 4]))
    request.resize_ratio = draw(floats if wild else st.floats(0, 1))
    params = draw(custom_params if wild else valid_params)
    if params is not None:
        request.custom_params.SetInParent()
        for key, value in params.items():
            request.custom_params.values[key].CopyFrom(value)
    return request


# -- the oracle -------------------------------------------------------------------------
def _param_ok(key: str, param: sc.CustomParam) -> bool:
    if key not in CONTROLS:
        return False
    kind, low, high, choices = CONTROLS[key]
    which = param.WhichOneof("value")
    if which != f"{kind}_value":
        return False
    value = getattr(param, which).value
    if kind in ("int", "double"):
        return math.isfinite(value) and low <= value <= high  # NaN and infinities refused
    return choices is None or value in choices


def allowed_statuses(request: image_pb2.ImageRequest) -> Set[int]:
    """The statuses a correct service may answer ``request`` with."""
    name = request.image_source_name
    if name not in SOURCES:
        return {Resp.STATUS_UNKNOWN_CAMERA}
    errors = set()
    formats = [request.image_format, *request.fallback_formats]
    if request.image_format == Image.FORMAT_UNKNOWN:
        chosen = Image.FORMAT_JPEG
    else:
        chosen = next((f for f in formats if f in (Image.FORMAT_JPEG, Image.FORMAT_RAW)), None)
    if chosen is None:
        errors.add(Resp.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED)
    else:
        layouts = set(JPEG_LAYOUTS)
        if chosen == Image.FORMAT_RAW and SOURCES[name] == 4:
            layouts.add(Image.PIXEL_FORMAT_RGBA_U8)
        if request.pixel_format not in layouts:
            errors.add(Resp.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED)
    if not 0.0 <= request.resize_ratio <= 1.0:
        errors.add(Resp.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED)
    if not all(_param_ok(k, v) for k, v in request.custom_params.values.items()):
        errors.add(Resp.STATUS_CUSTOM_PARAMS_ERROR)
    if name == "dead":
        errors.add(Resp.STATUS_IMAGE_DATA_ERROR)
    return errors or {Resp.STATUS_OK}


def _check_ok_shot(request: image_pb2.ImageRequest, response: image_pb2.ImageResponse) -> None:
    image = response.shot.image
    assert image.data and image.rows > 0 and image.cols > 0
    assert image.format in (Image.FORMAT_JPEG, Image.FORMAT_RAW)
    if image.format == Image.FORMAT_RAW:
        channels = {Image.PIXEL_FORMAT_RGB_U8: 3, Image.PIXEL_FORMAT_GREYSCALE_U8: 1,
                    Image.PIXEL_FORMAT_RGBA_U8: 4}[image.pixel_format]
        assert len(image.data) == image.rows * image.cols * channels
    if request.pixel_format != Image.PIXEL_FORMAT_UNKNOWN:
        assert image.pixel_format == request.pixel_format
    if request.image_source_name == "cam":  # calibrated and mounted
        assert response.shot.frame_name_image_sensor == "cam_image_sensor"
        assert (response.source.cols, response.source.rows) == (image.cols, image.rows)
        focal = response.source.pinhole_brown_conrady.intrinsics.pinhole_intrinsics.focal_length
        assert abs(focal.x - 140.0 * image.cols / 160) < 1e-6


# -- the properties ---------------------------------------------------------------------
FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
@FUZZ
@given(requests=st.lists(image_requests(), max_size=4))
def test_get_image_answers_every_request_with_the_right_status(service, requests):
    try:
        reply = service.stub.GetImage(image_pb2.GetImageRequest(image_requests=requests),
                                      timeout=DEADLINE)
    except grpc.RpcError as err:
        pytest.fail(f"GetImage failed as an RPC: {err.code().name} {err.details()}")
    if any(len(r.image_source_name) > MAX_NAME_CHARS for r in requests):
        # the request guard refuses the whole call, in one line, echoing nothing
        event("refused whole: oversized source name")
        assert reply.header.error.code == header_pb2.CommonError.CODE_INVALID_REQUEST
        assert not reply.image_responses and reply.ByteSize() < 4096
        return
    responses = list(reply.image_responses)
    assert len(responses) == len(requests)
    for request, response in zip(requests, responses):
        event(Resp.Status.Name(response.status))
        allowed = allowed_statuses(request)
        assert response.status in allowed, (
            f"{Resp.Status.Name(response.status)} not in "
            f"{sorted(Resp.Status.Name(s) for s in allowed)}")
        if response.status == Resp.STATUS_OK:
            _check_ok_shot(request, response)


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(client_name=names, seconds=st.integers(-(2**40), 2**40), nanos=st.integers(0, 10**9 - 1),
       disable_logging=st.booleans())
def test_list_image_sources_survives_any_header(service, client_name, seconds, nanos,
                                                disable_logging):
    header = header_pb2.RequestHeader(client_name=client_name,
                                      disable_rpc_logging=disable_logging)
    header.request_timestamp.seconds, header.request_timestamp.nanos = seconds, nanos
    response = service.stub.ListImageSources(image_pb2.ListImageSourcesRequest(header=header),
                                             timeout=DEADLINE)
    assert sorted(source.name for source in response.image_sources) == sorted(SOURCES)
    assert response.header.error.code == header_pb2.CommonError.CODE_OK


def test_service_still_serves_after_the_abuse(service):
    """Runs after the fuzzing in this module: every live camera still delivers."""
    for name in SOURCES:
        if name == "dead":
            continue
        (response,) = service.get(image_pb2.ImageRequest(image_source_name=name))
        assert response.status == Resp.STATUS_OK
    before = {c.name: c.frames_captured for c in service.service.captures}
    wait_for(lambda: all(c.frames_captured > before[c.name] + 3
                         for c in service.service.captures if c.name != "dead"), timeout=5)
