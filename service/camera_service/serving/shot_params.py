"""``ImageCapture.capture_params``: how a frame was taken, from its record of the controls.

A frame carries the camera controls in effect when it was taken (``Frame.controls``, the
per-frame record). The shot reports them: ``exposure_duration`` and ``gain`` as the source's
kind reads them from its controls (``CameraSource.shot_settings``; left unset when the camera
chose them itself or has no such control), and every control value in
``custom_params`` under the control's name (the same names and value types as the source's
custom parameters in ``ListImageSources``).
"""

from __future__ import annotations

from typing import Mapping

from bosdyn.api import image_pb2
from bosdyn.api import service_customization_pb2 as sc

from camera_service.sources import shot_settings
from camera_service.sources.base import ControlValue


def echo_value(param: sc.CustomParam, value: ControlValue) -> None:
    """``value`` into ``param`` in the custom-parameter type of its control's kind."""
    if isinstance(value, bool):
        param.bool_value.value = value
    elif isinstance(value, int):
        param.int_value.value = value
    elif isinstance(value, float):
        param.double_value.value = value
    else:
        param.string_value.value = str(value)


def fill(params: image_pb2.CaptureParameters, kind: str,
         values: Mapping[str, ControlValue]) -> None:
    """Report a frame of a ``kind`` source taken under the controls ``values``."""
    settings = shot_settings(kind, values)
    if settings.exposure is not None:
        params.exposure_duration.FromNanoseconds(round(settings.exposure * 1e9))
    if settings.gain is not None:
        params.gain = settings.gain
    for name, value in values.items():
        echo_value(params.custom_params.values[name], value)
