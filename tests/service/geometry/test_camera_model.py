"""CameraModel: proto form, projection against OpenCV, scaling to another size."""

from __future__ import annotations

import numpy as np
import pytest
from bosdyn.api import image_pb2
from camera_service.geometry.camera_model import (
    BROWN_CONRADY,
    KANNALA_BRANDT,
    PINHOLE,
    CameraModel,
    ModelError,
    coefficients_for,
    model_name,
)
from geometry_helpers import opencv_project, points_in_view, project_with_source

BC = (-0.28, 0.09, 0.001, -0.0005, -0.01)
KB = (0.05, -0.02, 0.01, -0.003)


def _source(model: CameraModel) -> image_pb2.ImageSource:
    source = image_pb2.ImageSource(name="cam", cols=model.width, rows=model.height)
    model.fill_source(source)
    return source


@pytest.mark.parametrize("kind, coefficients, fisheye", [
    (PINHOLE, (), False), (BROWN_CONRADY, BC, False), (KANNALA_BRANDT, KB, True)])
def test_proto_projects_like_opencv(kind, coefficients, fisheye):
    model = CameraModel(1280, 720, 910.5, 905.25, 641.2, 359.7, kind, coefficients)
    source = _source(model)
    assert source.WhichOneof("camera_models") == ("pinhole" if kind == PINHOLE else kind)
    points = points_in_view()
    expected = opencv_project(points, model.camera_matrix(), coefficients or (0,) * 5, fisheye)
    assert np.abs(project_with_source(source, points) - expected).max() < 0.1


@pytest.mark.parametrize("kind, coefficients, fisheye", [
    (BROWN_CONRADY, BC, False), (KANNALA_BRANDT, KB, True)])
def test_half_size_model_matches_the_half_size_image_geometry(kind, coefficients, fisheye):
    model = CameraModel(1280, 720, 910.5, 905.25, 641.2, 359.7, kind, coefficients)
    half = model.scaled_to(640, 360)
    points = points_in_view()
    full = opencv_project(points, model.camera_matrix(), coefficients, fisheye)
    # a 2x2 area-average keeps pixel centres: full-size u maps to (u + 0.5) / 2 - 0.5
    expected = (full + 0.5) * 0.5 - 0.5
    assert np.abs(project_with_source(_source(half), points) - expected).max() < 0.1
    assert half.coefficients == model.coefficients


def test_same_size_is_the_same_model():
    model = CameraModel(640, 480, 500, 500, 319.5, 239.5)
    assert model.scaled_to(640, 480) is model


def test_other_aspect_ratio_is_refused_in_one_line():
    model = CameraModel(1280, 720, 900, 900, 640, 360, BROWN_CONRADY, BC)
    with pytest.raises(ModelError) as raised:
        model.scaled_to(640, 480)
    message = str(raised.value)
    assert "1280x720" in message and "640x480" in message and "\n" not in message
    assert "calibrate" in message


def test_coefficient_counts():
    assert coefficients_for(BROWN_CONRADY, [0.1, 0.2, 0.0, 0.0]) == (0.1, 0.2, 0, 0, 0)
    assert coefficients_for(BROWN_CONRADY, [0.1] * 5 + [0.0] * 3) == (0.1,) * 5
    with pytest.raises(ModelError, match="5 distortion coefficients"):
        coefficients_for(BROWN_CONRADY, [0.1] * 8)  # rational model terms set
    with pytest.raises(ModelError, match="4 distortion coefficients"):
        coefficients_for(KANNALA_BRANDT, [0.1] * 5)
    with pytest.raises(ModelError):
        coefficients_for(PINHOLE, [0.1])


def test_model_names_and_aliases():
    assert model_name("plumb_bob") == BROWN_CONRADY
    assert model_name("Fisheye") == KANNALA_BRANDT
    assert model_name("equidistant") == KANNALA_BRANDT
    with pytest.raises(ModelError, match="unknown camera model 'mei'"):
        model_name("mei")


def test_bad_values_refused():
    with pytest.raises(ModelError, match="focal lengths"):
        CameraModel(640, 480, 0, 500, 320, 240)
    with pytest.raises(ModelError, match="image size"):
        CameraModel(0, 480, 500, 500, 320, 240)


def test_own_resize_may_round_the_aspect_ratio():
    model = CameraModel(320, 240, 280, 280, 159.5, 119.5)
    tiny = model.scaled_to(5, 4, resized=True)  # 320x240 at resize 1/64, rounded
    assert (tiny.fx, tiny.fy) == (280 * 5 / 320, 280 * 4 / 240)
    with pytest.raises(ModelError):
        model.scaled_to(5, 4)  # a camera granting 5x4 would crop
