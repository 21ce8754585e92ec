"""What one camera node offers, asked of the device itself (ioctls on a descriptor of its
own, not a capture: it works while the camera streams to the service, and for cameras no
source uses yet).

``describe_device(device)`` -> ``{"formats": [...], "controls": [...]}`` (JSON-ready):
- each capture format (``VIDIOC_ENUM_FMT``) with its sizes (``VIDIOC_ENUM_FRAMESIZES``) and,
  per size, its frame rates (``VIDIOC_ENUM_FRAMEINTERVALS``). A discrete size is
  ``{kind: "discrete", width, height, rates}``; a stepwise or continuous one adds
  ``max_width``, ``max_height``, ``step_width``, ``step_height`` and carries the rates of its
  largest size. A rate is ``{kind: "discrete", fps}`` or ``{kind, min_fps, max_fps}``;
- the controls (``VIDIOC_QUERYCTRL``, through ``v4l2_controls.IoctlControls``) with their
  current values, in the same shape as the configured sources' controls (``control_json``).

A query that fails part way leaves that part empty; only ``OSError`` is expected.
"""

from __future__ import annotations

from typing import Any, Dict, List

from camera_service.sources.v4l2.controls import Control, IoctlControls
from camera_service.sources.v4l2.ioctl import FrameInterval, FrameSize
from camera_service.sources.v4l2.source import fourcc_text


def control_json(control: Control) -> Dict[str, Any]:
    """One control as the page shows it."""
    return {"name": control.name, "kind": control.kind, "value": control.value,
            "default": control.default, "min": control.minimum, "max": control.maximum,
            "step": control.step, "choices": list(control.choices),
            "description": control.description}


def describe_device(device: Any) -> Dict[str, Any]:
    """Formats with sizes and rates, and controls, of an open device (see module doc)."""
    try:
        codes = device.formats()
    except OSError:
        codes = []
    formats = [{"fourcc": fourcc_text(code), "sizes": _sizes(device, code)} for code in codes]
    try:
        controls = [control_json(c) for c in IoctlControls(device).list_controls()]
    except OSError:
        controls = []
    return {"formats": formats, "controls": controls}


def _sizes(device: Any, code: int) -> List[Dict[str, Any]]:
    try:
        sizes: List[FrameSize] = device.frame_sizes(code)
    except OSError:
        return []
    shown = []
    for size in sizes:
        entry: Dict[str, Any] = {"kind": size.kind, "width": size.min_width,
                                 "height": size.min_height}
        if size.kind != "discrete":
            entry.update(max_width=size.max_width, max_height=size.max_height,
                         step_width=size.step_width, step_height=size.step_height)
        try:
            rates = device.frame_intervals(code, size.max_width, size.max_height)
        except OSError:
            rates = []
        entry["rates"] = [_rate(rate) for rate in rates]
        shown.append(entry)
    return shown


def _rate(interval: FrameInterval) -> Dict[str, Any]:
    if interval.kind == "discrete":
        return {"kind": "discrete", "fps": round(interval.max_fps, 3)}
    return {"kind": interval.kind, "min_fps": round(interval.min_fps, 3),
            "max_fps": round(interval.max_fps, 3)}
