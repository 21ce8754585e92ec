"""The geometry keys of a ``sources`` entry: ``calibration`` or ``intrinsics``, and ``mount``.

::

    calibration: front.yaml              # OpenCV YAML/XML or ROS camera_info YAML;
                                         #   relative = beside the config file
    intrinsics:                          # ... or inline (instead of calibration)
      fx: 600.0
      fy: 600.0
      cx: 319.5
      cy: 239.5
      model: pinhole_brown_conrady       # pinhole | pinhole_brown_conrady | kannala_brandt
      coefficients: [k1, k2, p1, p2, k3] # kannala_brandt: [k1, k2, k3, k4]
      width: 640                         # size the intrinsics are for (default: the
      height: 480                        #   source's width/height)
    mount:
      parent: body                       # body | payload
      xyz: [0.3, 0.0, 0.1]               # metres
      rpy_deg: [-90, 0, -90]             # ROS roll/pitch/yaw ... or
      quaternion: [w, x, y, z]

``parse_geometry`` removes these keys from the entry and returns ``GeometrySettings`` (or
None when the entry has none); every bad value is a ``ConfigError`` naming the key.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

from camera_service.core.errors import ConfigError
from camera_service.geometry.calibration_file import CalibrationFileError, read_calibration
from camera_service.geometry.camera_model import (
    PINHOLE,
    CameraModel,
    ModelError,
    model_name,
)
from camera_service.geometry.mount import PARENTS, Mount, normalized

GEOMETRY_KEYS = ("calibration", "intrinsics", "mount")
_INTRINSICS_KEYS = ("fx", "fy", "cx", "cy", "model", "coefficients", "width", "height")
_MOUNT_KEYS = ("parent", "xyz", "rpy_deg", "quaternion")


@dataclass(frozen=True)
class GeometrySettings:
    """A source's configured geometry: its model at the calibrated size and its mount."""

    model: Optional[CameraModel] = None
    mount: Optional[Mount] = None


def _check_keys(data: Any, allowed, key: str) -> Dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(key, f"must be a mapping with {', '.join(allowed)}")
    for name in data:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}", f"unknown key; {key.rsplit('.', 1)[-1]} "
                              f"accepts {', '.join(allowed)}")
    return data


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"must be a number, got {value!r}")
    return float(value)


def _numbers(value: Any, count: int | None, key: str, what: str):
    if not isinstance(value, (list, tuple)) or (count is not None and len(value) != count):
        raise ConfigError(key, f"must be a list of {what}, got {value!r}")
    return tuple(_number(v, f"{key}[{i}]") for i, v in enumerate(value))


def _size(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, f"must be a positive whole number of pixels, got {value!r}")
    return value


def parse_intrinsics(data: Any, key: str, width: int | None, height: int | None
                     ) -> CameraModel:
    """The inline ``intrinsics`` mapping as a model; ``width``/``height`` are the source's
    configured size, used when the mapping does not state its own."""
    data = _check_keys(data, _INTRINSICS_KEYS, key)
    for required in ("fx", "fy", "cx", "cy"):
        if required not in data:
            raise ConfigError(f"{key}.{required}", "is required (pixels)")
    values = {name: _number(data[name], f"{key}.{name}") for name in ("fx", "fy", "cx", "cy")}
    size_w = _size(data["width"], f"{key}.width") if "width" in data else width
    size_h = _size(data["height"], f"{key}.height") if "height" in data else height
    if size_w is None or size_h is None:
        raise ConfigError(key, "needs the image size it was measured at: add width and "
                          "height to intrinsics (or to the source)")
    try:
        model = model_name(data.get("model", PINHOLE))
    except ModelError as err:
        raise ConfigError(f"{key}.model", str(err)) from None
    coefficients = _numbers(data.get("coefficients", []), None, f"{key}.coefficients",
                            "numbers")
    try:
        return CameraModel(size_w, size_h, model=model, coefficients=coefficients, **values)
    except ModelError as err:
        where = "coefficients" if "coefficient" in str(err) else "fx"
        raise ConfigError(f"{key}.{where}", str(err)) from None


def parse_mount(data: Any, key: str) -> Mount:
    """The ``mount`` mapping as a ``Mount``."""
    data = _check_keys(data, _MOUNT_KEYS, key)
    parent = data.get("parent", "body")
    if parent not in PARENTS:
        raise ConfigError(f"{key}.parent", f"must be body or payload, got {parent!r}")
    xyz = _numbers(data.get("xyz", [0, 0, 0]), 3, f"{key}.xyz", "3 numbers (metres)")
    if "rpy_deg" in data and "quaternion" in data:
        raise ConfigError(f"{key}.quaternion", "give rpy_deg or quaternion, not both")
    if "quaternion" in data:
        quaternion = _numbers(data["quaternion"], 4, f"{key}.quaternion", "4 numbers [w, x, y, z]")
        try:
            return Mount(parent, xyz, normalized(quaternion))
        except ValueError as err:
            raise ConfigError(f"{key}.quaternion", str(err)) from None
    rpy = _numbers(data.get("rpy_deg", [0, 0, 0]), 3, f"{key}.rpy_deg",
                   "3 angles in degrees [roll, pitch, yaw]")
    return Mount.from_rpy_deg(parent, xyz, rpy)


def parse_geometry(entry: Dict[str, Any], key: str, width: int | None = None,
                   height: int | None = None, base_dir: str | None = None
                   ) -> GeometrySettings | None:
    """Pop ``calibration`` / ``intrinsics`` / ``mount`` from the source ``entry`` (at config
    key ``key``) and validate them; the calibration file is read now, so a bad file stops
    the service at start with one line. A relative calibration path is taken from
    ``base_dir`` (the config file's folder), else from the working directory."""
    if not any(name in entry for name in GEOMETRY_KEYS):
        return None
    calibration = entry.pop("calibration", None)
    intrinsics = entry.pop("intrinsics", None)
    mount = entry.pop("mount", None)
    model = None
    if calibration is not None and intrinsics is not None:
        raise ConfigError(f"{key}.intrinsics", "give calibration (a file) or intrinsics, "
                          "not both")
    if calibration is not None:
        if not isinstance(calibration, str) or not calibration.strip():
            raise ConfigError(f"{key}.calibration", "must be the path of an OpenCV or ROS "
                              "camera_info calibration file")
        path = os.path.expanduser(calibration.strip())
        if base_dir is not None:
            path = os.path.join(base_dir, path)  # an absolute path stays as it is
        try:
            model = read_calibration(path)
        except CalibrationFileError as err:
            raise ConfigError(f"{key}.calibration", str(err)) from None
        model_key = f"{key}.calibration"
    elif intrinsics is not None:
        model = parse_intrinsics(intrinsics, f"{key}.intrinsics", width, height)
        model_key = f"{key}.intrinsics"
    if model is not None and width and height and not model.same_aspect(width, height):
        raise ConfigError(model_key, f"is for {model.width}x{model.height} but the source "
                          f"asks for {width}x{height}, another aspect ratio; calibrate at "
                          "that size or change width/height")
    return GeometrySettings(model, parse_mount(mount, f"{key}.mount") if mount is not None
                            else None)
