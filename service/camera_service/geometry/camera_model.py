"""A camera's projection model, its scaling to another image size, and its proto form.

Conventions (OpenCV's): pixel (0, 0) is the centre of the top-left pixel; ``fx, fy, cx, cy``
are in pixels of an image ``width`` x ``height``; Brown-Conrady coefficients are
``k1 k2 p1 p2 k3`` (OpenCV ``projectPoints``), Kannala-Brandt ``k1 k2 k3 k4`` (OpenCV
``fisheye.projectPoints``). The protos carry the same numbers: ``ImageSource.pinhole``,
``pinhole_brown_conrady`` or ``kannala_brandt``.

Scaling to another size (the camera grants another resolution than calibrated, or a request
asks for ``resize_ratio``) keeps the field of view: per axis ``s = new / old``,
``f' = f * s`` and ``c' = (c + 0.5) * s - 0.5`` (pixel centres map like OpenCV's ``resize``
and like sensor binning). Distortion coefficients act on normalised coordinates and do not
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from bosdyn.api import image_pb2

PINHOLE = "pinhole"
BROWN_CONRADY = "pinhole_brown_conrady"
KANNALA_BRANDT = "kannala_brandt"
MODELS = (PINHOLE, BROWN_CONRADY, KANNALA_BRANDT)
#: Other names people use for the same models (ROS ``distortion_model`` values, OpenCV's).
MODEL_ALIASES: Dict[str, str] = {
    "pinhole": PINHOLE, "none": PINHOLE,
    "pinhole_brown_conrady": BROWN_CONRADY, "brown_conrady": BROWN_CONRADY,
    "plumb_bob": BROWN_CONRADY, "radtan": BROWN_CONRADY, "rational_polynomial": BROWN_CONRADY,
    "kannala_brandt": KANNALA_BRANDT, "fisheye": KANNALA_BRANDT, "equidistant": KANNALA_BRANDT,
}
COEFFICIENT_NAMES = {PINHOLE: (), BROWN_CONRADY: ("k1", "k2", "p1", "p2", "k3"),
                     KANNALA_BRANDT: ("k1", "k2", "k3", "k4")}
#: Two sizes have "the same aspect ratio" when their width/height ratios differ by less.
ASPECT_TOLERANCE = 0.01


class ModelError(ValueError):
    """The calibration cannot describe this camera (bad values, another aspect ratio)."""


def model_name(name: str) -> str:
    """The canonical model name for ``name`` (an alias is accepted); raises ``ModelError``."""
    canonical = MODEL_ALIASES.get(str(name).strip().lower())
    if canonical is None:
        raise ModelError(f"unknown camera model {name!r}; use pinhole, pinhole_brown_conrady "
                         "(plumb_bob) or kannala_brandt (fisheye, equidistant)")
    return canonical


def coefficients_for(model: str, values) -> Tuple[float, ...]:
    """``values`` as the model's coefficient tuple (``k1 k2 p1 p2 k3`` or ``k1..k4``).

    Brown-Conrady accepts 4 (k3 = 0) or 5 values, and OpenCV's longer vectors (8, 12, 14)
    when the terms this model cannot carry are zero. Raises ``ModelError``.
    """
    values = tuple(float(v) for v in values)
    wanted = len(COEFFICIENT_NAMES[model])
    if model == BROWN_CONRADY:
        if len(values) == 4:
            values += (0.0,)
        elif len(values) > 5 and not any(values[5:]):
            values = values[:5]
    if model == PINHOLE and not any(values):
        values = ()
    if len(values) != wanted:
        names = " ".join(COEFFICIENT_NAMES[model]) or "none"
        raise ModelError(f"{model} takes {wanted} distortion coefficients ({names}), "
                         f"got {len(values)}")
    return values


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of a camera at ``width`` x ``height`` pixels (see module docstring)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    model: str = PINHOLE
    coefficients: Tuple[float, ...] = ()
    skew: float = 0.0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ModelError(f"unknown camera model {self.model!r}")
        if self.width <= 0 or self.height <= 0:
            raise ModelError(f"image size must be positive, got {self.width}x{self.height}")
        if not (self.fx > 0 and self.fy > 0):
            raise ModelError(f"focal lengths must be positive, got fx={self.fx:g} "
                             f"fy={self.fy:g}")
        object.__setattr__(self, "coefficients",
                           coefficients_for(self.model, self.coefficients))

    @property
    def size(self) -> Tuple[int, int]:
        return (self.width, self.height)

    def same_aspect(self, width: int, height: int) -> bool:
        """True when ``width`` x ``height`` has this calibration's aspect ratio."""
        mine = self.width / self.height
        return abs(width / height - mine) <= ASPECT_TOLERANCE * mine

    def scaled_to(self, width: int, height: int, resized: bool = False) -> CameraModel:
        """This model for an image of ``width`` x ``height`` showing the same field of view.

        Raises ``ModelError`` with one line when the aspect ratio differs (a camera granting
        such a size crops, and no scaling is right) - unless ``resized``: the service's own
        resize of the whole image, whose rounding may move the aspect ratio of small sizes.
        """
        if (width, height) == self.size:
            return self
        if not resized and not self.same_aspect(width, height):
            raise ModelError(f"calibrated at {self.width}x{self.height} but the image is "
                             f"{width}x{height}, another aspect ratio; calibrate at this "
                             "size (python -m camera_service.calibrate) or set the source's "
                             f"width/height to {self.width}x{self.height} or a multiple")
        sx, sy = width / self.width, height / self.height
        return CameraModel(width, height, self.fx * sx, self.fy * sy,
                           (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5,
                           self.model, self.coefficients, self.skew * sx)

    def camera_matrix(self):
        """The 3x3 OpenCV camera matrix (numpy)."""
        import numpy as np

        return np.array([[self.fx, self.skew, self.cx], [0.0, self.fy, self.cy],
                         [0.0, 0.0, 1.0]])

    def fill_source(self, source: image_pb2.ImageSource) -> None:
        """Set the camera model of ``source`` (the ``camera_models`` oneof)."""
        if self.model == PINHOLE:
            self._fill_intrinsics(source.pinhole.intrinsics)
            return
        if self.model == BROWN_CONRADY:
            intrinsics = source.pinhole_brown_conrady.intrinsics
        else:
            intrinsics = source.kannala_brandt.intrinsics
        self._fill_intrinsics(intrinsics.pinhole_intrinsics)
        for name, value in zip(COEFFICIENT_NAMES[self.model], self.coefficients):
            setattr(intrinsics, name, value)

    def _fill_intrinsics(self, intrinsics) -> None:
        intrinsics.focal_length.x, intrinsics.focal_length.y = self.fx, self.fy
        intrinsics.principal_point.x, intrinsics.principal_point.y = self.cx, self.cy
        if self.skew:
            intrinsics.skew.x = self.skew

    def describe(self) -> str:
        """One line for logs and the calibration tool."""
        coefficients = " ".join(f"{n}={v:.5g}" for n, v in
                                zip(COEFFICIENT_NAMES[self.model], self.coefficients))
        return (f"{self.model} {self.width}x{self.height} fx={self.fx:.2f} fy={self.fy:.2f} "
                f"cx={self.cx:.2f} cy={self.cy:.2f}" + (f" {coefficients}" if coefficients
                                                         else ""))
