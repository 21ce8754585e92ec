"""The ``sources`` entries: the keys every entry takes (``SourceCommon``) and, per kind, the
options that kind reads (``SyntheticOptions``, ``V4l2Options``, ``UrlOptions``,
``FileOptions``). ``SourceEntry`` is the discriminated union on ``type`` the JSON Schema and
the docs show; a source kind reads its typed options with ``read_options``.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Dict, List, Literal, Optional, Tuple, Type, Union

from pydantic import ConfigDict, Field, field_validator, model_validator
from typing_extensions import Annotated

from camera_service.core.errors import excerpt
from camera_service.core.sixteen_bit import COLORMAPS, NO_COLORMAP
from camera_service.schema.base import (
    Between,
    Bool,
    ConfigModel,
    Float,
    Int,
    Text,
    did_you_mean,
    problem,
    validate,
)
from camera_service.schema.geometry import Geometry
from camera_service.schema.sections import NAME_PATTERN, check_name

MAX_SOURCES = 16
MAX_PIXEL_RATE = 3840 * 2160 * 60  # 4K at 60 fps: beyond any camera a CORE I/O can take
PassthroughPolicy = Literal["auto", "thin-link", "never"]


class Clips(ConfigModel):
    """Data Acquisition video clips of a source (capability ``<name>-clip``)."""

    where: ClassVar[str] = "clips"

    enabled: Bool = Field(False, description="offer clips of this camera to Data Acquisition "
                          "and keep its recent frames for the pre-roll (off: no memory used)",
                          json_schema_extra={"x-form": "field"})
    pre_roll_s: Annotated[Float, Between(0, 60)] = Field(
        2.0, description="seconds before the capture action a clip can start (frames kept "
        "in memory; the service says when the memory limit allows less)",
        json_schema_extra={"x-form": "field"})


class SourceCommon(Geometry):
    """The keys of every ``sources`` entry, whatever its kind."""

    # The kind's own keys pass (checked by the kind when the source is built).
    model_config = ConfigDict(extra="ignore")

    name: Text = Field(description="image source name shown on the tablet (unique)",
                       examples=["front"], json_schema_extra={"pattern": NAME_PATTERN,
                                                              "x-form": "field"})
    type: Text = Field(description="the kind of camera: synthetic, v4l2, url or file",
                       json_schema_extra={"x-form": "field"})
    width: Optional[Annotated[Int, Between(16, 8192)]] = Field(None, description="requested image "
                                                    "width (pixels)", examples=[1280],
                                                    json_schema_extra={"x-form": "field"})
    height: Optional[Annotated[Int, Between(16, 8192)]] = Field(None, description="requested image "
                                                     "height (pixels)", examples=[720],
                                                     json_schema_extra={"x-form": "field"})
    fps: Optional[Annotated[Float, Between(0.1, 240)]] = Field(
        None, description="requested frame rate "
                                                    "(frames per second)", examples=[30],
                                                    json_schema_extra={"x-form": "field"})
    jpeg_quality: Optional[Annotated[Int, Between(1, 100)]] = Field(
        None, description="JPEG quality "
                                                         "(percent; default service."
                                                         "jpeg_quality); set on a V4L2 "
                                                         "camera's compression control",
                                                         json_schema_extra={"x-form": "field"})
    jpeg_passthrough: Optional[PassthroughPolicy] = Field(None, description="when the "
                                                          "camera's own JPEG is served "
                                                          "untouched: auto, thin-link or "
                                                          "never (default auto)",
                                                          json_schema_extra={"x-form": "field"})
    clips: Optional[Clips] = Field(None, description="Data Acquisition video clips "
                                   "(<name>-clip): enabled, pre_roll_s")

    @classmethod
    def passes_unknown_keys(cls) -> bool:
        return True  # the kind's options, checked by the kind when the source is built

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, f" (up to 63), got {excerpt(value)}")

    @field_validator("type")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in SOURCE_KINDS:
            raise problem(f"unknown source type {excerpt(value)}; use one of "
                          f"{', '.join(sorted(SOURCE_KINDS))}")
        return value

    @model_validator(mode="after")
    def _pixel_rate(self) -> SourceCommon:
        width, height, fps = self.width, self.height, self.fps
        if width and height and fps and width * height * fps > MAX_PIXEL_RATE:
            raise problem(f"{width}x{height} at {fps:g} fps is more than a CORE I/O can "
                          f"capture ({MAX_PIXEL_RATE / 1e6:.0f} Mpixel/s at most); lower the "
                          "size or the rate", sub="fps")
        return self


class KindOptions(ConfigModel):
    """Options of one source kind, besides the common keys."""

    kind: ClassVar[str] = "?"

    @classmethod
    def unknown_key_problem(cls, name: str) -> str:
        known = list(cls.model_fields)
        hint = did_you_mean(name, known + list(SourceCommon.model_fields))
        return f"unknown option for a {cls.kind} source; {hint}use {', '.join(known)}"


def _controls_field() -> Any:
    """The ``controls`` option of a kind whose camera has controls."""
    return Field(
        None, json_schema_extra={"type": "object", "additionalProperties": {
            "type": ["integer", "number", "boolean", "string"]}},
        description="control name -> initial value, applied at every open",
        examples=[{"brightness": 10, "power_line_frequency": "50 Hz"}])


class SyntheticOptions(KindOptions):
    """A test pattern that needs no hardware."""

    kind: ClassVar[str] = "synthetic"
    native_jpeg: Bool = Field(True, description="deliver JPEG bytes like an MJPEG camera; "
                              "false delivers raw pixels")
    pixel_format: Literal["bgr", "grey", "bgra"] = Field("bgr", description="layout of raw "
                                                         "pixels (native_jpeg: false)")
    controls: Optional[Dict[str, Any]] = _controls_field()


_COLORMAP_NAMES = sorted([NO_COLORMAP, *COLORMAPS])


class V4l2Options(KindOptions):
    """USB (UVC) and other V4L2 cameras (see camera_service.sources.v4l2.source)."""

    kind: ClassVar[str] = "v4l2"
    device: Any = Field("auto", description="/dev/video0, an index, a stable name "
                        "(/dev/v4l/by-id/...), auto (the first camera) or all (every camera)",
                        examples=["/dev/v4l/by-id/usb-Cam-video-index0", "auto", "all"],
                        json_schema_extra={"type": ["string", "integer"], "x-form": "field"})
    format: Any = Field(
        None, json_schema_extra={"type": "string"}, description="FOURCC such as MJPG or "
                                              "YUYV, a 16-bit format (Y16, Y16_BE, Y12, Y10, "
                                              "Z16) or auto (MJPG when offered)",
                                              examples=["MJPG"])
    codec: Any = Field(
        None, json_schema_extra={"type": "string"}, description="alias of format (the SDK "
                                             "example's --codec)")
    native_jpeg: Bool = Field(True, description="with MJPG, serve the camera's JPEG bytes "
                              "untouched; false decodes every frame")
    controls: Optional[Dict[str, Any]] = _controls_field()
    image_type: Optional[Literal["visual", "depth"]] = Field(None, description="16-bit "
                                                             "sources: visual (thermal) or "
                                                             "depth; default from the format")
    depth_scale: Optional[Float] = Field(None, description="16-bit depth: the raw value of "
                                         "one metre (default 1000 = millimetres)",
                                         json_schema_extra={"exclusiveMinimum": 0})
    range: Any = Field(None, json_schema_extra={"anyOf": [
        {"type": "string", "enum": ["auto"]},
        {"type": "object", "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
         "required": ["min", "max"]}]}, description="16-bit view: auto or {min, "
                                               "max} raw values mapped to black..white",
                                               examples=["auto", {"min": 27000,
                                                                  "max": 32000}])
    colormap: Any = Field(
        None, json_schema_extra={"type": "string", "enum": list(_COLORMAP_NAMES)},
        description="16-bit view: an OpenCV colour map or none (default inferno for "
        "thermal, turbo for depth)")


class UrlOptions(KindOptions):
    """Network cameras: HTTP(S) MJPEG and snapshots, RTSP and other FFmpeg URLs."""

    kind: ClassVar[str] = "url"
    url: str = Field(description="the camera's stream address, e.g. "
                     "rtsp://user:pass@192.168.50.20/stream1",
                     examples=["http://192.168.50.20/video.mjpg"])
    reader: Literal["auto", "mjpeg", "ffmpeg"] = Field("auto", description="mjpeg (JPEG "
                                                       "passed through), ffmpeg (decoded), "
                                                       "auto (mjpeg for http/https)")
    timeout: Annotated[Float, Field(gt=0)] = Field(5.0, description="connecting and waiting "
                                                   "for each frame (seconds)")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport; every "
                                                  "url source of a service uses the same")
    verify_tls: Bool = Field(True, description="check the HTTPS certificate (false for "
                             "self-signed cameras)")


class FileOptions(KindOptions):
    """A video file played in a loop (demos, tests)."""

    kind: ClassVar[str] = "file"
    path: str = Field(description="the video file to play, e.g. /data/demo.avi",
                      examples=["/data/demo.avi"])
    loop: Bool = Field(True, description="start again at the end of the file")


#: Every source kind and the options model it reads.
KIND_OPTIONS: Dict[str, Type[KindOptions]] = {
    model.kind: model for model in (SyntheticOptions, V4l2Options, UrlOptions, FileOptions)}
SOURCE_KINDS: Tuple[str, ...] = tuple(KIND_OPTIONS)
Opts = typing.TypeVar("Opts", bound=KindOptions)


def read_options(model: Type[Opts], options: Any) -> Opts:
    """A source kind's typed options from the entry's kind-specific keys; ``ConfigError``
    keyed relative to the entry (``"pixel_format"``) for a bad or unknown key."""
    if isinstance(options, model):
        return options
    return validate(model, dict(options or {}))


def _entry(options: Type[KindOptions]) -> Type[ConfigModel]:
    """The whole ``sources`` entry of one kind: the common keys plus the kind's options."""
    kind = options.kind
    doc = (options.__doc__ or kind).strip()
    namespace: Dict[str, Any] = {
        "__annotations__": {"type": Literal[kind]},
        "type": Field(description=f"{kind}: {doc}",
                      json_schema_extra={"x-form": "field"}),
        "__doc__": f"A ``{kind}`` source: {doc}",
        "passes_unknown_keys": classmethod(lambda cls: False),
        "model_config": ConfigDict(extra="forbid"),
    }
    return typing.cast(Type[ConfigModel], type(f"{options.__name__[:-7]}Source",
                                               (options, SourceCommon), namespace))


SOURCE_ENTRIES: Dict[str, Type[ConfigModel]] = {kind: _entry(model)
                                                for kind, model in KIND_OPTIONS.items()}
SourceEntry: Any = Annotated[Union[tuple(SOURCE_ENTRIES.values())],
                             Field(discriminator="type")]


def source_entries_list() -> Any:
    """``List[SourceEntry]`` for the document model."""
    return List[SourceEntry]
