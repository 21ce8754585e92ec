"""The geometry keys of a ``sources`` entry: ``calibration`` or ``intrinsics``, and ``mount``.

The structure and value types are checked here; ``camera_service.geometry.config`` turns the
checked values into a camera model (reading the calibration file) and a mount.
"""

from __future__ import annotations

from typing import Any, ClassVar, List, Literal, Optional

from pydantic import Field, field_validator, model_validator
from typing_extensions import Annotated

from camera_service.geometry.camera_model import MODEL_ALIASES, PINHOLE
from camera_service.schema.base import ConfigModel, Float, Int, problem

Number = Annotated[Float, Field(allow_inf_nan=False)]


class Intrinsics(ConfigModel):
    """A camera model written inline (pixels), instead of a calibration file."""

    where: ClassVar[str] = "intrinsics"

    fx: Number = Field(description="focal length along x (pixels)", examples=[600.0])
    fy: Number = Field(description="focal length along y (pixels)", examples=[600.0])
    cx: Number = Field(description="principal point x (pixels)", examples=[319.5])
    cy: Number = Field(description="principal point y (pixels)", examples=[239.5])
    model: str = Field(PINHOLE, description="distortion model: pinhole, "
                       "pinhole_brown_conrady or kannala_brandt (ROS and OpenCV names too)",
                       json_schema_extra={"enum": list(sorted(MODEL_ALIASES))})
    coefficients: List[Number] = Field(default_factory=list, description="distortion "
                                       "coefficients: [k1, k2, p1, p2, k3] (brown_conrady), "
                                       "[k1, k2, k3, k4] (kannala_brandt)")
    width: Optional[Annotated[Int, Field(gt=0)]] = Field(None, description="image width the "
                                                         "intrinsics are for (pixels; default "
                                                         "the source's width)")
    height: Optional[Annotated[Int, Field(gt=0)]] = Field(None, description="image height the "
                                                          "intrinsics are for (pixels; default "
                                                          "the source's height)")


class Mount(ConfigModel):
    """Where the camera sits on the robot."""

    where: ClassVar[str] = "mount"

    parent: Literal["body", "payload"] = Field("body", description="frame the pose is in")
    xyz: List[Number] = Field([0.0, 0.0, 0.0], min_length=3, max_length=3,
                              description="position (metres)", examples=[[0.3, 0.0, 0.1]])
    rpy_deg: Optional[List[Number]] = Field(None, min_length=3, max_length=3,
                                            description="ROS roll, pitch, yaw (degrees)",
                                            examples=[[-90, 0, -90]])
    quaternion: Optional[List[Number]] = Field(None, min_length=4, max_length=4,
                                               description="rotation [w, x, y, z], instead "
                                               "of rpy_deg")

    @model_validator(mode="before")
    @classmethod
    def _one_rotation(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rpy_deg" in data and "quaternion" in data:
            raise problem("give rpy_deg or quaternion, not both", sub="quaternion")
        return data


def _calibration_path(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise problem("must be the path of an OpenCV or ROS camera_info calibration file")
    return value


class Geometry(ConfigModel):
    """The geometry keys every source entry takes."""

    where: ClassVar[str] = "the source"

    calibration: Optional[str] = Field(None, description="OpenCV YAML/XML or ROS "
                                       "camera_info YAML file; relative = beside the config "
                                       "file", examples=["front.yaml"])
    intrinsics: Optional[Intrinsics] = Field(None, description="the camera model inline "
                                             "(instead of calibration)")
    mount: Optional[Mount] = Field(None, description="where the camera sits on the robot")

    @field_validator("calibration", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return value if value is None else _calibration_path(value)

    @model_validator(mode="before")
    @classmethod
    def _one_model(cls, data: Any) -> Any:
        if (isinstance(data, dict) and data.get("calibration") is not None
                and data.get("intrinsics") is not None):
            raise problem("give calibration (a file) or intrinsics, not both",
                          sub="intrinsics")
        return data
