"""Pure image functions: decode JPEG, convert pixel layout, resize, encode JPEG.

Pixel arrays use OpenCV's layouts: ``H x W x 3`` BGR, ``H x W`` grey, ``H x W x 4`` BGRA.
Output layouts are named by the ImageService's pixel formats: ``"rgb"``, ``"grey"``, ``"rgba"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from camera_service.pipeline.sixteen_bit import ViewSettings
from camera_service.sources.base import Frame

OUTPUT_LAYOUTS = ("rgb", "grey", "rgba")


class EncodingError(RuntimeError):
    """The frame's bytes could not be decoded or encoded (corrupt camera data)."""


def decode_jpeg(data: bytes) -> np.ndarray:
    """JPEG bytes -> pixels (BGR, or grey for a greyscale JPEG). Raises ``EncodingError``."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise EncodingError(f"camera delivered {len(data)} bytes that are not a valid JPEG")
    return pixels


def convert_layout(pixels: np.ndarray, layout: str) -> np.ndarray:
    """OpenCV-layout ``pixels`` -> ``layout`` (``rgb``, ``grey`` or ``rgba``), C-contiguous."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    codes = {
        (1, "rgb"): cv2.COLOR_GRAY2RGB,
        (1, "rgba"): cv2.COLOR_GRAY2RGBA,
        (3, "rgb"): cv2.COLOR_BGR2RGB,
        (3, "grey"): cv2.COLOR_BGR2GRAY,
        (3, "rgba"): cv2.COLOR_BGR2RGBA,
        (4, "rgb"): cv2.COLOR_BGRA2RGB,
        (4, "grey"): cv2.COLOR_BGRA2GRAY,
        (4, "rgba"): cv2.COLOR_BGRA2RGBA,
    }
    if layout not in OUTPUT_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    if (channels, layout) == (1, "grey"):
        return np.ascontiguousarray(pixels)
    return cv2.cvtColor(pixels, codes[(channels, layout)])


def scaled_size(width: int, height: int, ratio: float) -> Tuple[int, int]:
    """Output (width, height) for ``resize_ratio``; 0 and 1 mean full size. At least 1x1."""
    if ratio in (0.0, 1.0):
        return (width, height)
    return (max(1, round(width * ratio)), max(1, round(height * ratio)))


def resize(pixels: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """``pixels`` scaled to ``size`` = (width, height) with area averaging; unchanged if equal."""
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """Encode OpenCV-layout ``pixels`` as JPEG at ``quality`` (alpha is dropped)."""
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise EncodingError("JPEG encoding failed")
    return data.tobytes()


@dataclass(frozen=True)
class OutputSpec:
    """One distinct output of a frame: what a GetImage request resolves to.

    ``format`` is ``"jpeg"`` or ``"raw"``; ``layout`` the output pixel layout (``rgb``,
    ``grey``, ``rgba``; JPEG only ``rgb`` or ``grey``; for 16-bit frames also ``grey16`` and
    ``depth16``, RAW only); ``quality`` the JPEG quality (0 for raw); ``width``/``height`` the
    output size; ``view`` how a 16-bit frame's 8-bit outputs are made (None otherwise).
    """

    format: str
    layout: str
    quality: int
    width: int
    height: int
    view: Optional[ViewSettings] = None


@dataclass(frozen=True)
class EncodedImage:
    """The bytes sent for one ``OutputSpec`` of one frame, and what they are."""

    data: bytes
    spec: OutputSpec
    passthrough: bool  # the camera's own JPEG bytes, untouched
    # The 8-bit view of a 16-bit frame: the raw (low, high) shown black..white.
    value_range: Optional[Tuple[int, int]] = None


def is_passthrough(frame: Frame, spec: OutputSpec) -> bool:
    """True when the camera's JPEG bytes already are the requested output. Quality 0 stands
    for "the camera's own" when the camera does not report its JPEG quality."""
    return (
        frame.jpeg is not None
        and spec.format == "jpeg"
        and spec.layout == "rgb"
        and (spec.width, spec.height) == (frame.width, frame.height)
        and spec.quality == (frame.jpeg_quality or 0)
    )


def produce(frame: Frame, spec: OutputSpec, allow_passthrough: bool = True) -> EncodedImage:
    """The bytes of ``frame`` in ``spec``: passthrough, or decode/convert/resize/encode
    (always the latter with ``allow_passthrough=False``: the SDK example's way, a baseline).

    Raises ``EncodingError`` when the camera's data cannot be decoded.
    """
    if allow_passthrough and is_passthrough(frame, spec):
        return EncodedImage(frame.jpeg, spec, passthrough=True)
    pixels = frame.pixels if frame.pixels is not None else decode_jpeg(frame.jpeg)
    pixels = resize(pixels, (spec.width, spec.height))
    if spec.format == "jpeg":
        if spec.layout == "grey" and pixels.ndim == 3:
            pixels = convert_layout(pixels, "grey")
        return EncodedImage(encode_jpeg(pixels, spec.quality), spec, passthrough=False)
    return EncodedImage(convert_layout(pixels, spec.layout).tobytes(), spec, passthrough=False)
