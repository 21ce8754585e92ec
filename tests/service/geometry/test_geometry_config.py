"""The calibration / intrinsics / mount keys of a source entry, through the config loader."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from camera_service.config.model import from_mapping
from camera_service.core.errors import ConfigError
from camera_service.geometry.camera_model import BROWN_CONRADY, PINHOLE


def _source(**keys):
    return {"sources": [{"name": "front", "type": "synthetic", "width": 640, "height": 480,
                         **keys}]}


def _geometry(**keys):
    return from_mapping(_source(**keys)).sources[0].settings.geometry


def _error(**keys) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        from_mapping(_source(**keys))
    assert "\n" not in str(raised.value)
    return raised.value


def test_no_geometry_keys_means_none():
    assert _geometry() is None


def test_inline_intrinsics_take_the_source_size():
    geometry = _geometry(intrinsics={"fx": 500, "fy": 501, "cx": 319.5, "cy": 239.5,
                                     "model": "plumb_bob",
                                     "coefficients": [0.1, -0.05, 0.0, 0.0, 0.01]})
    model = geometry.model
    assert (model.width, model.height, model.model) == (640, 480, BROWN_CONRADY)
    assert geometry.mount is None


def test_calibration_file(tmp_path):
    path = tmp_path / "front.yaml"
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    storage.write("image_width", 1280)
    storage.write("image_height", 960)
    storage.write("camera_matrix", np.array([[1000.0, 0, 640], [0, 1000.0, 480], [0, 0, 1]]))
    storage.write("distortion_coefficients", np.zeros((1, 5)))
    storage.release()
    model = _geometry(calibration=str(path)).model
    assert (model.width, model.model) == (1280, PINHOLE)


def test_mount_rpy_and_quaternion():
    mount = _geometry(mount={"parent": "payload", "xyz": [0.1, 0.2, 0.3],
                             "quaternion": [2, 0, 0, 0]}).mount
    assert (mount.parent, mount.xyz, mount.quaternion) == ("payload", (0.1, 0.2, 0.3),
                                                           (1, 0, 0, 0))
    assert _geometry(mount={"xyz": [0, 0, 0], "rpy_deg": [0, 0, 180]}).mount.parent == "body"


@pytest.mark.parametrize("keys, where, needle", [
    ({"mount": {"parent": "head"}}, "sources[0].mount.parent", "body or payload"),
    ({"mount": {"xyz": [0, 0]}}, "sources[0].mount.xyz", "3 numbers"),
    ({"mount": {"xyz": [0, 0, "a"]}}, "sources[0].mount.xyz[2]", "number"),
    ({"mount": {"rpy": [0, 0, 0]}}, "sources[0].mount.rpy", "unknown key"),
    ({"mount": {"rpy_deg": [0, 0, 0], "quaternion": [1, 0, 0, 0]}},
     "sources[0].mount.quaternion", "not both"),
    ({"mount": {"quaternion": [0, 0, 0, 0]}}, "sources[0].mount.quaternion", "zero length"),
    ({"mount": [1, 2]}, "sources[0].mount", "mapping"),
    ({"intrinsics": {"fx": 500, "fy": 500, "cx": 320}}, "sources[0].intrinsics.cy",
     "required"),
    ({"intrinsics": {"fx": 500, "fy": 500, "cx": 320, "cy": 240, "focal": 1}},
     "sources[0].intrinsics.focal", "unknown key"),
    ({"intrinsics": {"fx": 500, "fy": 500, "cx": 320, "cy": 240, "model": "mei"}},
     "sources[0].intrinsics.model", "unknown camera model"),
    ({"intrinsics": {"fx": 500, "fy": 500, "cx": 320, "cy": 240, "model": "fisheye",
                     "coefficients": [0.1]}}, "sources[0].intrinsics.coefficients",
     "4 distortion coefficients"),
    ({"intrinsics": {"fx": 500, "fy": 500, "cx": 320, "cy": 240, "width": 1280,
                     "height": 720}}, "sources[0].intrinsics", "another aspect ratio"),
    ({"calibration": "/nonexistent/front.yaml"}, "sources[0].calibration",
     "cannot read calibration file"),
    ({"calibration": 3}, "sources[0].calibration", "must be the path"),
    ({"calibration": "x.yaml", "intrinsics": {}}, "sources[0].intrinsics", "not both"),
])
def test_bad_keys_are_named(keys, where, needle):
    err = _error(**keys)
    assert err.key == where and needle in err.problem


def test_intrinsics_without_any_size():
    with pytest.raises(ConfigError, match="add width and height"):
        from_mapping({"sources": [{"name": "a", "type": "synthetic",
                                   "intrinsics": {"fx": 1, "fy": 1, "cx": 0, "cy": 0}}]})


def test_misspelt_geometry_key_is_named_with_the_likely_one():
    config = from_mapping(_source(calibraton="front.yaml"))
    with pytest.raises(ConfigError) as raised:
        config.build_sources()
    assert raised.value.key == "sources[0].calibraton"
    assert "did you mean 'calibration'?" in raised.value.problem


def test_relative_calibration_path_is_beside_the_config_file(tmp_path, monkeypatch):
    from camera_service.config import model as config_module
    from camera_service.geometry.calibration_file import write_calibration
    from camera_service.geometry.camera_model import CameraModel
    from camera_service.settings_page.config_store import ConfigStore

    folder = tmp_path / "extension" / "config"
    folder.mkdir(parents=True)
    write_calibration(str(folder / "front.yaml"), CameraModel(640, 480, 500, 500, 319.5, 239.5))
    path = folder / "config.yaml"
    path.write_text("sources:\n  - name: front\n    type: synthetic\n"
                    "    calibration: front.yaml\n")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    model = config_module.load(str(path)).sources[0].settings.geometry.model
    assert model.fx == 500
    # the settings page validates what it saves the same way
    saved = ConfigStore(path).save_sources([{"name": "front", "type": "synthetic",
                                             "width": 320, "height": 240,
                                             "calibration": "front.yaml"}])
    assert saved["sources"][0]["calibration"] == "front.yaml"
