"""What the service tells clients about its cameras and shots: ``ImageSource`` descriptions
and the OK ``ImageResponse`` of one (frame, output).

``Descriptions`` owns the source descriptions: built once per camera state (delivered size,
the open generation - which fixes the granted channels and the control spec read at that
open - and the geometry version) and reused, since one goes into every ImageResponse; a
``resize_ratio`` response gets the description at its size (rows/cols and the camera model
scaled, so the model matches the image). Sources with geometry (``geometries``, see
``camera_service.geometry``) carry their camera model in the ``ImageSource`` and
``frame_name_image_sensor`` + ``transforms_snapshot`` in every shot. ``ok_response`` builds
and serializes the response of one (frame, output); the servicer has the encode-once cache
make it once per pair (fields of one shot belong there so they are cached with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Mapping, NamedTuple, Tuple

from bosdyn.api import image_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from camera_service.capture.camera_state import CameraStatus
from camera_service.capture.cameras import Cameras
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore, StoredFrame
from camera_service.encoding.encoder import EncodedImage, OutputSpec
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.serving import custom_params, shot_params, view_params
from camera_service.serving.request_spec import (
    FORMAT_OF_NAME,
    PIXEL_FORMAT_OF_LAYOUT,
    served_pixel_formats,
    supported_layouts,
)

Status = image_pb2.ImageResponse
# local wall-clock seconds -> robot-time Timestamp (see robot.time_sync)
RobotTimeConverter = Callable[[float], Timestamp]
RESIZED_PER_CAMERA = 64  # resized descriptions kept per described camera


def local_timestamp(local_secs: float) -> Timestamp:
    """Fallback converter: local time as is (used when no robot clock is available)."""
    stamp = Timestamp()
    stamp.FromNanoseconds(int(local_secs * 1e9))
    return stamp


class Described(NamedTuple):
    """A camera's ``ImageSource`` and the ``key`` of the state it describes (responses are
    cached under the key)."""

    key: tuple
    source: image_pb2.ImageSource


@dataclass(frozen=True)
class ServedResponse:
    """A serialized OK ImageResponse and the size of the image bytes in it (what the memory
    budget counts); ``len`` is the serialized size (what the output cache counts)."""

    data: bytes
    image_bytes: int

    def __len__(self) -> int:
        return len(self.data)


class Descriptions:
    """The descriptions of the cameras whose frames are in ``store`` (see the module doc).

    ``cameras`` are the running cameras: their live ``geometries`` (camera models and
    mounts) are described, their ``version`` (changed whenever the set changes) is part of
    every description's key (a replaced camera may start at the same generation).
    ``to_robot_time`` stamps shots in robot time."""

    def __init__(self, store: FrameStore, cameras: Cameras,
                 to_robot_time: RobotTimeConverter = local_timestamp) -> None:
        self.store = store
        self._cameras = cameras
        self.geometries: Mapping[str, SourceGeometry] = cameras.geometries  # live, read-only
        self.to_robot_time = to_robot_time
        self._described: Dict[str, Described] = {}
        self._resized: Dict[tuple, image_pb2.ImageSource] = {}

    def describe(self, capture: CaptureThread, stored: StoredFrame | None = None
                 ) -> Described:
        """The description of ``capture`` in its current state (built once per state), at
        the size of ``stored`` (the frame being served; default: the latest frame)."""
        status = capture.state.status()
        frame = stored if stored is not None else self.store.latest(capture.name)
        size = (frame.frame.width, frame.frame.height) if frame is not None else None
        key = (size, status.generation, self._cameras.version)
        cached = self._described.get(capture.name)
        if cached is not None and cached.key == key:
            return cached
        described = Described(key, self._build(capture, status, size))
        self._described[capture.name] = described
        return described

    def ok_response(self, capture: CaptureThread, described: Described, stored: StoredFrame,
                    spec: OutputSpec, encoded: EncodedImage) -> ServedResponse:
        """The OK response of one (frame, output), serialized."""
        response = image_pb2.ImageResponse(status=Status.STATUS_OK)
        source = described.source
        if (spec.width, spec.height) != (stored.frame.width, stored.frame.height):
            source = self._resized_source(capture, described, (spec.width, spec.height))
        response.source.CopyFrom(source)
        shot = response.shot
        shot.image.data = encoded.data
        shot.image.cols, shot.image.rows = spec.width, spec.height
        shot.image.format = FORMAT_OF_NAME[spec.format]
        shot.image.pixel_format = PIXEL_FORMAT_OF_LAYOUT[spec.layout]
        shot.acquisition_time.CopyFrom(self.to_robot_time(stored.frame.capture_time))
        shot_params.fill(shot.capture_params, capture.kind, stored.frame.controls.values)
        if encoded.value_range is not None:  # the raw range a 16-bit source's view shows
            view_params.report_range(shot.capture_params.custom_params, encoded.value_range)
        geometry = self.geometries.get(capture.name)
        if geometry is not None and geometry.frame_name:
            shot.frame_name_image_sensor = geometry.frame_name
            shot.transforms_snapshot.CopyFrom(geometry.snapshot())
        return ServedResponse(response.SerializeToString(), len(encoded.data))

    def _resized_source(self, capture: CaptureThread, described: Described,
                        size: Tuple[int, int]) -> image_pb2.ImageSource:
        """``described`` for a response of ``size``: rows/cols and the camera model at that
        size. Sources without a camera model are described as at full size. Built once per
        description key and size."""
        full = described.source
        geometry = self.geometries.get(capture.name)
        if geometry is None or full.WhichOneof("camera_models") is None:
            return full
        key = (capture.name, described.key, size)
        cached = self._resized.get(key)
        if cached is not None:
            return cached
        resized = image_pb2.ImageSource()
        resized.CopyFrom(full)
        resized.cols, resized.rows = size
        resized.ClearField(full.WhichOneof("camera_models"))
        model = geometry.model_at(*size, delivered=(full.cols, full.rows))
        if model is not None:
            model.fill_source(resized)
        if len(self._resized) >= RESIZED_PER_CAMERA * max(1, len(self._described)):
            self._resized.clear()  # old opens and rarely asked sizes
        self._resized[key] = resized
        return resized

    def _build(self, capture: CaptureThread, status: CameraStatus,
               size: Tuple[int, int] | None) -> image_pb2.ImageSource:
        source = image_pb2.ImageSource(name=capture.name,
                                       image_type=image_pb2.ImageSource.IMAGE_TYPE_VISUAL)
        if size is not None:
            source.cols, source.rows = size
        elif status.info is not None:
            source.cols, source.rows = status.info.width, status.info.height
        else:
            source.cols, source.rows = capture.expected_size()
        profile = status.info.sixteen_bit if status.info is not None else None
        if profile is not None:
            source.pixel_formats.extend(served_pixel_formats(profile))
            if profile.image_type == "depth":
                source.image_type = image_pb2.ImageSource.IMAGE_TYPE_DEPTH
                source.depth_scale = profile.depth_scale
        else:
            for layout in supported_layouts(status.channels):
                source.pixel_formats.append(PIXEL_FORMAT_OF_LAYOUT[layout])
        source.image_formats.extend([image_pb2.Image.FORMAT_JPEG, image_pb2.Image.FORMAT_RAW])
        spec = custom_params.spec_for(status.controls)
        if profile is not None:  # the 8-bit view's settings, per request
            for name, entry in view_params.view_spec(profile, len(spec.specs)).specs.items():
                spec.specs[name].CopyFrom(entry)
        if spec.specs:
            source.custom_params.CopyFrom(spec)
        geometry = self.geometries.get(capture.name)
        model = geometry.model_at(source.cols, source.rows) if geometry else None
        if model is not None:
            model.fill_source(source)
        return source
