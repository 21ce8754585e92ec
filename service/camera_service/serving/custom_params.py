"""A camera's real controls as ImageService custom parameters.

``spec_for`` turns ``Control``s (name, kind, range, default, read from the source) into a
``DictParam.Spec``; ``requested_values`` validates a request's ``DictParam`` against it
(``serving.request_spec`` does, once per request) and ``set_changed`` sets the values that
differ on the camera.

Controls are properties of the camera, not of a request: a value set by one client changes
the frames every client receives from then on (last writer wins), and stays until someone
sets it again or the service restarts. A request that changes a value gets a frame captured
after the change.
"""

from __future__ import annotations

import logging
import math
from typing import Callable, Dict, List, Protocol, Sequence

from bosdyn.api import service_customization_pb2 as sc
from bosdyn.client.service_customization_helpers import (
    InvalidCustomParamSpecError,
    create_value_validator,
    dict_params_to_dict,
    validate_dict_spec,
)

from camera_service.sources.base import Control, ControlValue

_LOG = logging.getLogger(__name__)


class Controllable(Protocol):
    """A camera whose settings can be set (a capture thread, a source)."""

    def set_control(self, name: str, value: ControlValue) -> object: ...


class CustomParamsError(ValueError):
    """A request's custom parameters are invalid; ``error`` is the proto for the response."""

    def __init__(self, error: sc.CustomParamError) -> None:
        super().__init__("; ".join(error.error_messages) or "invalid custom parameters")
        self.error = error


def _clamp(value: float, control: Control) -> float:
    if control.minimum is not None:
        value = max(value, control.minimum)
    if control.maximum is not None:
        value = min(value, control.maximum)
    return value


def _child_spec(control: Control) -> sc.CustomParam.Spec:
    """One control as a CustomParam.Spec (default clamped into range: cameras do lie)."""
    spec = sc.CustomParam.Spec()
    if control.kind in ("int", "float"):
        numeric = spec.int_spec if control.kind == "int" else spec.double_spec
        cast = int if control.kind == "int" else float
        numeric.default_value.value = cast(_clamp(float(control.default), control))
        if control.minimum is not None:
            numeric.min_value.value = cast(control.minimum)
        if control.maximum is not None:
            numeric.max_value.value = cast(control.maximum)
    elif control.kind == "bool":
        spec.bool_spec.default_value.value = bool(control.default)
    elif control.kind == "menu":
        spec.string_spec.options.extend(control.choices)
        spec.string_spec.editable = False
        spec.string_spec.default_value = str(control.default)
    else:
        raise ValueError(f"unsupported control kind {control.kind!r}")
    return spec


def spec_for(controls: Sequence[Control]) -> sc.DictParam.Spec:
    """The custom-parameter spec for ``controls``; a control that cannot be expressed as a
    valid spec is left out (logged at debug), never fatal."""
    dict_spec = sc.DictParam.Spec()
    for order, control in enumerate(controls):
        try:
            child = _child_spec(control)
            probe = sc.DictParam.Spec()
            probe.specs[control.name].spec.CopyFrom(child)
            validate_dict_spec(probe)
        except (ValueError, InvalidCustomParamSpecError) as err:
            _LOG.debug("control %r left out of the custom parameters: %s", control.name, err)
            continue
        entry = dict_spec.specs[control.name]
        entry.spec.CopyFrom(child)
        entry.ui_info.display_name = control.name.replace("_", " ").capitalize()
        entry.ui_info.description = control.description
        entry.ui_info.display_order = order
    return dict_spec


def _refuse_invalid(keys: List[str], problem: Callable[[str], str]) -> None:
    """Raise ``CustomParamsError`` (invalid value) naming each of ``keys``, if any."""
    if keys:
        raise CustomParamsError(sc.CustomParamError(
            status=sc.CustomParamError.STATUS_INVALID_VALUE,
            error_messages=[f"parameter {key!r} {problem(key)}" for key in sorted(keys)]))


def requested_values(request_params: sc.DictParam,
                     dict_spec: sc.DictParam.Spec) -> Dict[str, ControlValue]:
    """The values in ``request_params`` as plain Python values, validated against the spec.

    Raises ``CustomParamsError`` (with the proto error) for unknown keys, wrong types,
    values out of range, and NaN or infinite numbers (which the SDK's range check lets
    through: every comparison with NaN is false).
    """
    unknown = [key for key in request_params.values if key not in dict_spec.specs]
    if unknown:
        raise CustomParamsError(sc.CustomParamError(
            status=sc.CustomParamError.STATUS_UNSUPPORTED_PARAMETER,
            error_messages=[f"unknown parameter {key!r}; this source supports "
                            f"{', '.join(sorted(dict_spec.specs)) or 'none'}"
                            for key in sorted(unknown)]))
    values = request_params.values
    _refuse_invalid([key for key, param in values.items()  # the SDK's validator raises
                     if param.WhichOneof("value") is None], lambda key: "has no value")
    _refuse_invalid([key for key, param in values.items()
                     if param.WhichOneof("value") == "double_value"
                     and not math.isfinite(param.double_value.value)],
                    lambda key: f"must be a finite number, got {values[key].double_value.value}")
    error = create_value_validator(dict_spec)(request_params)
    if error is not None and error.status != sc.CustomParamError.STATUS_OK:
        raise CustomParamsError(error)
    return dict_params_to_dict(request_params, dict_spec, validate=False)


def set_changed(source: Controllable, values: Dict[str, ControlValue],
                known: Dict[str, ControlValue]) -> List[str]:
    """Set every value of ``values`` (already validated) that differs from ``known`` (the
    camera's current values as far as the caller knows; updated in place). Returns the names
    changed; a camera refusing a value raises ``CustomParamsError``."""
    changed = []
    for name, value in values.items():
        if known.get(name) == value:
            continue
        try:
            source.set_control(name, value)
        except (KeyError, ValueError) as err:
            raise CustomParamsError(sc.CustomParamError(
                status=sc.CustomParamError.STATUS_INVALID_VALUE,
                error_messages=[f"camera refused {name}={value!r}: {err}"])) from None
        known[name] = value
        changed.append(name)
    return changed
