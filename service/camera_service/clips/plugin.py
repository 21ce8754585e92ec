"""The Data Acquisition plugin: one capability ``<source>-clip`` per clip-enabled source.

Built on the SDK's ``DataAcquisitionPluginService`` (RPCs, request states, cancellation,
the store helper). Each capture records a clip (``recorder``) from ``pre_roll_s`` before the
action's time to ``duration_s`` after it, and stores two pieces on the capability's channel:
``clip`` (``.mkv``, streamed from a file with StoreDataStream) and ``metadata`` (``.json``).
Several captures of one request are recorded side by side.

A camera failing mid-clip: the frames up to the failure are stored (clip and metadata,
``complete: false`` and the reason in the metadata), then a DataError naming the camera is
added for the clip (errors go last: the robot stops asking a plugin at STATUS_DATA_ERROR).
A cancelled request stores nothing. A request whose clips need more than the robot's 30 s
gets its ``timeout_deadline`` extended (robot clock), as the Data Acquisition guide says.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import units_pb2
from bosdyn.client.data_acquisition_plugin_service import (
    Capability,
    RequestCancelledError,
    make_error,
)
from bosdyn.client.service_customization_helpers import (
    make_dict_child_spec,
    make_dict_param_spec,
    make_double_param_spec,
    make_int64_param_spec,
)
from google.protobuf.timestamp_pb2 import Timestamp

from camera_service.capture.camera_state import CameraStatus
from camera_service.clips.metadata import clip_metadata, to_json
from camera_service.clips.recorder import ClipResult, record
from camera_service.clips.ring import FrameRing
from camera_service.clips.writer import ClipWriter, JpegOf
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.sources.base import Control

_LOG = logging.getLogger(__name__)
CAPABILITY_SUFFIX = "-clip"
DURATION_RANGE = (1, 60)
DEFAULT_DURATION_S = 10
DEFAULT_PRE_ROLL_S = 2.0
ROBOT_TIMEOUT_S = 30.0  # the robot's Data Acquisition gives a plugin this long by default
STORE_MARGIN_S = 15.0
SECONDS = units_pb2.Units(name="s")  # time to finish the file and stream it to the robot


@dataclass
class ClipSource:
    """What a clip needs of one camera (the app wires it from the capture and geometry)."""

    name: str
    ring: FrameRing
    status: Callable[[], CameraStatus]
    controls: Callable[[], Sequence[Control]]
    describe: Callable[[], str]
    kind: str
    jpeg_of: JpegOf
    geometry: Callable[[], Optional[SourceGeometry]]

    @property
    def max_pre_roll_s(self) -> float:
        return self.ring.pre_roll_s


def capability_name(source: str) -> str:
    return source + CAPABILITY_SUFFIX


def make_capability(source: ClipSource) -> Capability:
    """``<source>-clip`` with ``duration_s`` (1-60, default 10) and ``pre_roll_s`` (0 up to
    what the source's ring keeps, default 2 or less)."""
    top = source.max_pre_roll_s
    params = make_dict_param_spec({
        "duration_s": make_dict_child_spec(make_int64_param_spec(
            DEFAULT_DURATION_S, SECONDS, *DURATION_RANGE)),
        "pre_roll_s": make_dict_child_spec(make_double_param_spec(
            min(DEFAULT_PRE_ROLL_S, top), SECONDS, 0.0, top)),
    }, is_hidden_by_default=False)
    name = capability_name(source.name)
    return Capability(name=name, channel_name=name, custom_params=params,
                      description=f"Video clip of camera {source.name}, seconds before the "
                                  "capture included")


def clip_params(capture: daq.DataCapture) -> tuple:
    """(duration_s, pre_roll_s) of ``capture``, defaults where not given (the SDK's service
    has checked them against the spec)."""
    values = capture.custom_params.values
    duration = (values["duration_s"].int_value.value if "duration_s" in values
                else DEFAULT_DURATION_S)
    pre_roll = (values["pre_roll_s"].double_value.value if "pre_roll_s" in values
                else DEFAULT_PRE_ROLL_S)
    return float(duration), float(pre_roll)


class ClipPlugin:
    """The collection behaviour behind the SDK's plugin service (see the module doc).

    ``to_robot_time`` / ``to_local`` convert between local wall-clock seconds and robot
    time (the service's time sync); ``folder`` holds clip files until they are stored.
    """

    def __init__(self, sources: Sequence[ClipSource],
                 to_robot_time: Callable[[float], Timestamp],
                 to_local: Callable[[Timestamp], float], folder: str | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.sources: Dict[str, ClipSource] = {capability_name(s.name): s for s in sources}
        self.to_robot_time = to_robot_time
        self.to_local = to_local
        self.folder = folder or tempfile.mkdtemp(prefix="clips-")
        self.now = now
        self._lock = threading.Lock()
        self.recording = 0  # clips being recorded right now (tests, counters)

    def set_sources(self, sources: Sequence[ClipSource]) -> None:
        """The clip-enabled sources from now on (a live config change); a clip being
        recorded keeps the source it started with."""
        self.sources = {capability_name(s.name): s for s in sources}

    def capabilities(self) -> List[Capability]:
        return [make_capability(source) for source in self.sources.values()]

    # -- AcquirePluginData --------------------------------------------------------------
    def acquire_response(self, request: daq.AcquirePluginDataRequest,
                         response: daq.AcquirePluginDataResponse) -> bool:
        """Accept the request; extend the robot's deadline when its clips need longer."""
        longest = max((sum(clip_params(c)) for c in
                       request.acquisition_requests.data_captures), default=0.0)
        needed = longest + STORE_MARGIN_S
        if needed > ROBOT_TIMEOUT_S:
            response.timeout_deadline.CopyFrom(self.to_robot_time(self.now() + needed))
        return True

    def collect(self, request: daq.AcquirePluginDataRequest, store_helper) -> None:
        """Record every requested clip side by side, then store them; errors last."""
        action_local = self._action_time(request)
        captures = list(request.acquisition_requests.data_captures)
        action = {"action_name": request.action_id.action_name,
                  "group_name": request.action_id.group_name}
        results: Dict[int, Any] = {}

        def run(index: int, capture: daq.DataCapture) -> None:
            try:
                results[index] = self._record(capture, action_local, store_helper, action)
            except BaseException as err:
                results[index] = err

        threads = [threading.Thread(target=run, args=(i, c), name=f"clip-{c.name}",
                                    daemon=True) for i, c in enumerate(captures)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes = [results[i] for i in range(len(captures))]
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # cancelled (RequestCancelledError) or a bug
        store_helper.state.set_status(daq.GetStatusResponse.STATUS_SAVING)
        errors = []
        for capture, (path, document, result) in zip(captures, outcomes):
            clip_id = self._data_id(request, capture, "clip")
            if path is not None:
                store_helper.store_file(path, clip_id, file_extension="mkv")
                self._remove_when_stored(store_helper, path)
            store_helper.store_data(to_json(document), self._data_id(request, capture,
                                                                      "metadata"),
                                    file_extension="json")
            if result.failure is not None:
                kept = len(result.frame_times)
                errors.append(make_error(clip_id, (
                    f"{result.failure} mid-clip; the {kept} frame(s) before the failure "
                    "were stored")))
        if errors:
            # After the stores finished: the robot stops asking at STATUS_DATA_ERROR.
            _wait_stored(store_helper)
            store_helper.state.add_errors(errors)

    def _record(self, capture: daq.DataCapture, action_local: float, store_helper,
                action: Dict[str, str]) -> tuple:
        source = self.sources[capture.name]
        duration, pre_roll = clip_params(capture)
        pre_roll = min(pre_roll, source.max_pre_roll_s)
        status = source.status()
        path = os.path.join(self.folder, f"{capture.name}-{time.monotonic_ns()}.mkv")
        fps = status.info.fps if status.info is not None else 0.0
        writer = ClipWriter(path, source.jpeg_of, fps)
        result = ClipResult()
        with self._lock:
            self.recording += 1
        try:
            result = record(source.ring, writer, action_local - pre_roll,
                            action_local + duration, store_helper.cancel_check,
                            status.frame_period, self.now)
        except RequestCancelledError:
            _remove(path)
            raise
        finally:
            with self._lock:
                self.recording -= 1
        if status.failure is not None and not result.frame_times:
            result.failure = result.failure or status.failure
        document = clip_metadata(
            source=source.name, capability=capture.name,
            action=action,
            requested={"duration_s": duration, "pre_roll_s": pre_roll},
            action_local=action_local, result=result, to_robot_time=self.to_robot_time,
            info=source.status().info or status.info, describe=source.describe(),
            kind=source.kind, controls=source.controls(), geometry=source.geometry(),
            tracks=writer.tracks)
        return (path if writer.frames else None), document, result

    # -- helpers ------------------------------------------------------------------------
    def _action_time(self, request: daq.AcquirePluginDataRequest) -> float:
        """The action's time (local seconds): its robot-time stamp, else now."""
        stamp = request.action_id.timestamp
        if stamp.seconds == 0 and stamp.nanos == 0:
            return self.now()
        return self.to_local(stamp)

    @staticmethod
    def _data_id(request: daq.AcquirePluginDataRequest, capture: daq.DataCapture,
                 data_name: str) -> daq.DataIdentifier:
        return daq.DataIdentifier(action_id=request.action_id, channel=capture.name,
                                  data_name=data_name)

    @staticmethod
    def _remove_when_stored(store_helper, path: str) -> None:
        """Delete the clip file once its StoreDataStream call finished."""
        _data_id, future = store_helper.data_id_future_pairs[-1]
        future.add_done_callback(lambda _f: _remove(path))


def _wait_stored(store_helper, step: float = 0.05) -> None:
    """Block until every store call of ``store_helper`` finished (cancellation checked)."""
    while not all(future.done() for _, future in store_helper.data_id_future_pairs):
        store_helper.cancel_check()
        time.sleep(step)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
