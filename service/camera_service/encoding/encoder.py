"""Pure image functions: decode JPEG, convert pixel layout, resize, encode JPEG.

Pixel arrays use OpenCV's layouts: ``H x W x 3`` BGR, ``H x W`` grey, ``H x W x 4`` BGRA.
Output layouts are named by the ImageService's pixel formats: ``"rgb"``, ``"grey"``, ``"rgba"``.

A smaller output of a camera JPEG is decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder
itself (``reduction_for``, ``decode_jpeg(data, factor)``): a fraction of a full decode, and no
full-size resize afterwards. ``produce`` takes the decode as a function so that a cache can
share one decode of a frame between all its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import cv2
import numpy as np

from camera_service.core.sixteen_bit import ViewSettings
from camera_service.sources.base import Frame

OUTPUT_LAYOUTS = ("rgb", "grey", "rgba")
DEFAULT_OWN_QUALITY = 90  # re-encoding "the camera's own" quality when it is unknown


class EncodingError(RuntimeError):
    """The frame's bytes could not be decoded or encoded (corrupt camera data)."""


REDUCTIONS = (8, 4, 2)  # scales libjpeg decodes to directly (1/8, 1/4, 1/2)
_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                  8: cv2.IMREAD_REDUCED_COLOR_8}
# ``decoder(factor)`` -> the frame's JPEG decoded at 1/factor scale (see ``decode_jpeg``).
Decoder = Callable[[int], np.ndarray]


def reduction_for(width: int, height: int, size: Tuple[int, int]) -> int:
    """The largest decoder scale-down (8, 4, 2, else 1) of a ``width x height`` JPEG that is
    still at least ``size`` = (width, height) in both directions (no upscaling afterwards)."""
    for factor in REDUCTIONS:
        if -(-width // factor) >= size[0] and -(-height // factor) >= size[1]:
            return factor
    return 1


def decode_jpeg(data: bytes, factor: int = 1) -> np.ndarray:
    """JPEG bytes -> read-only pixels, at 1/``factor`` scale (1, 2, 4, 8; sizes rounded up).
    BGR, or grey for a greyscale JPEG at full scale. Raises ``EncodingError``."""
    flag = _REDUCED_FLAGS[factor] if factor > 1 else cv2.IMREAD_UNCHANGED
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if pixels is None:
        raise EncodingError(f"camera delivered {len(data)} bytes that are not a valid JPEG")
    pixels.flags.writeable = False
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
    ``depth16``, RAW only); ``quality`` the JPEG quality (0 for raw; for JPEG, 0 = the camera's
    own bytes, see ``is_passthrough``); ``width``/``height`` the output size; ``view`` how a
    16-bit frame's 8-bit outputs are made (None otherwise).
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
    """True when ``spec`` is served with the camera's JPEG bytes untouched: a full-size colour
    JPEG output of quality 0 ("the camera's own", chosen by the request resolution from the
    source's passthrough policy) of a frame that carries JPEG."""
    return (
        frame.jpeg is not None
        and spec.format == "jpeg"
        and spec.layout == "rgb"
        and spec.quality == 0
        and (spec.width, spec.height) == (frame.width, frame.height)
    )


def produce(frame: Frame, spec: OutputSpec, decoder: Decoder | None = None) -> EncodedImage:
    """The bytes of ``frame`` in ``spec``: passthrough, or decode/convert/resize/encode.

    A camera JPEG is decoded by ``decoder`` (default: decoding here) at the largest scale-down
    that still covers the output size. A re-encode of "the camera's own" quality (0) uses the
    frame's estimated quality, else 90. Raises ``EncodingError`` when the data cannot be
    decoded.
    """
    size = (spec.width, spec.height)
    if frame.pixels is not None:
        pixels = frame.pixels
    else:
        jpeg = frame.jpeg  # a frame holds pixels or JPEG bytes (sources.base.Frame)
        assert jpeg is not None
        if is_passthrough(frame, spec):
            return EncodedImage(jpeg, spec, passthrough=True)
        factor = reduction_for(frame.width, frame.height, size)
        pixels = decoder(factor) if decoder is not None else decode_jpeg(jpeg, factor)
    pixels = resize(pixels, size)
    if spec.format == "jpeg":
        if spec.layout == "grey" and pixels.ndim == 3:
            pixels = convert_layout(pixels, "grey")
        quality = spec.quality or frame.jpeg_quality or DEFAULT_OWN_QUALITY
        return EncodedImage(encode_jpeg(pixels, quality), spec, passthrough=False)
    return EncodedImage(convert_layout(pixels, spec.layout).tobytes(), spec, passthrough=False)
