"""A source's geometry from its checked ``calibration`` / ``intrinsics`` / ``mount`` keys.

The keys, their types and ranges are declared in ``camera_service.schema.geometry`` and
checked there first; ``parse_geometry`` turns the checked values into a camera model (reading
the calibration file) and a mount, and reports what only they can tell (an unknown model
name, coefficients that do not fit it, a zero quaternion, an aspect ratio that does not match
the source) as a ``ConfigError`` naming the key.
"""

from __future__ import annotations

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
from camera_service.geometry.mount import Mount, normalized


@dataclass(frozen=True)
class GeometrySettings:
    """A source's configured geometry: its model at the calibrated size and its mount."""

    model: Optional[CameraModel] = None
    mount: Optional[Mount] = None


def parse_intrinsics(data: Dict[str, Any], key: str, width: int | None, height: int | None
                     ) -> CameraModel:
    """The checked inline ``intrinsics`` values as a model; ``width``/``height`` are the
    source's configured size, used when the mapping does not state its own."""
    values = {name: float(data[name]) for name in ("fx", "fy", "cx", "cy")}
    size_w = data.get("width") or width
    size_h = data.get("height") or height
    if size_w is None or size_h is None:
        raise ConfigError(key, "needs the image size it was measured at: add width and "
                          "height to intrinsics (or to the source)")
    try:
        model = model_name(data.get("model", PINHOLE))
    except ModelError as err:
        raise ConfigError(f"{key}.model", str(err)) from None
    coefficients = tuple(float(c) for c in data.get("coefficients", ()))
    try:
        return CameraModel(size_w, size_h, model=model, coefficients=coefficients, **values)
    except ModelError as err:
        where = "coefficients" if "coefficient" in str(err) else "fx"
        raise ConfigError(f"{key}.{where}", str(err)) from None


def parse_mount(data: Dict[str, Any], key: str) -> Mount:
    """The checked ``mount`` values as a ``Mount``."""
    parent = data.get("parent", "body")
    x, y, z = (float(v) for v in data.get("xyz", (0, 0, 0)))
    xyz = (x, y, z)
    if data.get("quaternion") is not None:
        quaternion = tuple(float(v) for v in data["quaternion"])
        try:
            return Mount(parent, xyz, normalized(quaternion))
        except ValueError as err:
            raise ConfigError(f"{key}.quaternion", str(err)) from None
    rpy = tuple(float(v) for v in data.get("rpy_deg") or (0, 0, 0))
    return Mount.from_rpy_deg(parent, xyz, rpy)


def parse_geometry(entry: Dict[str, Any], key: str, width: int | None = None,
                   height: int | None = None, base_dir: str | None = None
                   ) -> GeometrySettings | None:
    """Pop ``calibration`` / ``intrinsics`` / ``mount`` (checked by the schema) from the
    source ``entry`` (at config key ``key``) and build them; the calibration file is read
    now, so a bad file stops the service at start with one line. A relative calibration
    path is taken from ``base_dir`` (the config file's folder), else from the working
    directory."""
    if not any(name in entry for name in ("calibration", "intrinsics", "mount")):
        return None
    calibration = entry.pop("calibration", None)
    intrinsics = entry.pop("intrinsics", None)
    mount = entry.pop("mount", None)
    model = None
    if calibration is not None:
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
