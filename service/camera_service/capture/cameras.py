"""The running cameras, held in one place: ``Cameras``.

Each running camera is one ``RunningCamera``: its source, the capture thread that owns the
source (and the camera's ``CameraState``), and its geometry (camera model and mount) when
the source's settings have one. Its latest frame lives in the shared ``FrameStore`` under
its name; ``Cameras`` forgets that entry when the camera is replaced or removed.

Only ``Cameras`` changes the set: ``change`` adds, replaces and removes cameras (live apply),
``start``/``stop`` run them all. Everyone else reads through live, read-only views:
``captures`` and ``geometries`` (name -> object mappings that always show the current set;
nobody keeps a copy), ``states()`` (the fault reporter), ``sources()``. ``version`` changes
with every change of the set, so a description cached under it is never served for a
camera that was replaced.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from camera_service.capture.camera_state import CameraState
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore
from camera_service.geometry.payload_pose import PayloadPose
from camera_service.geometry.source_geometry import SourceGeometry
from camera_service.sources.base import CameraSource

# A capture thread for a source, wired like every other (store, listener, backoff, hygiene).
CaptureFactory = Callable[[CameraSource], CaptureThread]
T = TypeVar("T")


@dataclass(frozen=True)
class RunningCamera:
    """One running camera: its source, the capture thread owning it, its geometry."""

    source: CameraSource
    capture: CaptureThread
    geometry: Optional[SourceGeometry]

    @property
    def name(self) -> str:
        return self.source.name


@dataclass(frozen=True)
class CameraChange:
    """What ``Cameras.change`` does: sources to add (new names), sources replacing the
    running camera of the same name, names to remove, and the names' order afterwards
    (None: the running order, added ones last)."""

    add: Sequence[CameraSource] = ()
    replace: Sequence[CameraSource] = ()
    remove: Sequence[str] = ()
    order: Optional[Sequence[str]] = None


class _View(Mapping[str, T]):
    """A read-only, always current ``name -> part`` mapping over the running cameras."""

    def __init__(self, owner: Cameras, part: Callable[[RunningCamera], Optional[T]]) -> None:
        self._owner = owner
        self._part = part

    def _items(self) -> List[Tuple[str, T]]:
        pairs = ((c.name, self._part(c)) for c in self._owner.running())
        return [(name, part) for name, part in pairs if part is not None]

    def __getitem__(self, name: str) -> T:
        camera = self._owner.get(name)
        part = self._part(camera) if camera is not None else None
        if part is None:
            raise KeyError(name)
        return part

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._items()])

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"<running cameras view {[name for name, _ in self._items()]}>"


class Cameras:
    """The single owner of the running cameras (see the module doc). Thread-safe: changes
    are serialized; readers see either the set before a change or the set after it."""

    def __init__(self, store: FrameStore, make_capture: CaptureFactory,
                 payload_pose: PayloadPose | None = None,
                 sources: Sequence[CameraSource] = ()) -> None:
        self._store = store
        self._make_capture = make_capture
        self._payload_pose = payload_pose
        self._change_lock = threading.Lock()  # one change (or start/stop) at a time
        self._started = False
        self._version = 0
        # replaced whole by a change, never edited in place: readers need no lock
        self._running: Dict[str, RunningCamera] = {
            source.name: self._camera(source) for source in sources}
        self.captures: Mapping[str, CaptureThread] = _View(self, lambda c: c.capture)
        self.geometries: Mapping[str, SourceGeometry] = _View(self, lambda c: c.geometry)

    # -- reading (any thread) ----------------------------------------------------------------
    @property
    def version(self) -> int:
        """Changes with every change of the set of cameras."""
        return self._version

    def running(self) -> Tuple[RunningCamera, ...]:
        """The running cameras, in order."""
        return tuple(self._running.values())

    def get(self, name: str) -> RunningCamera | None:
        return self._running.get(name)

    def capture_threads(self) -> Tuple[CaptureThread, ...]:
        return tuple(camera.capture for camera in self._running.values())

    def sources(self) -> Tuple[CameraSource, ...]:
        return tuple(camera.source for camera in self._running.values())

    def states(self) -> List[CameraState]:
        """Every running camera's state (the fault reporter reads these)."""
        return [camera.capture.state for camera in self._running.values()]

    def needs_payload_pose(self) -> bool:
        """True when some camera is mounted relative to the payload."""
        return any(camera.geometry is not None and camera.geometry.payload_relative
                   for camera in self._running.values())

    def runs(self, source: CameraSource) -> bool:
        """True when a camera of ``source``'s name runs with the same kind and settings."""
        camera = self._running.get(source.name)
        return camera is not None and (camera.source.kind, camera.source.settings) == (
            source.kind, source.settings)

    # -- owning ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start capturing on every camera (and on those added from now on)."""
        with self._change_lock:
            self._started = True
            for camera in self._running.values():
                camera.capture.start()

    def stop(self, timeout: float) -> None:
        """Stop every camera's capture, side by side, within ``timeout`` seconds."""
        with self._change_lock:
            _stop_all([camera.capture for camera in self._running.values()], timeout)

    def change(self, change: CameraChange, stop_timeout: float) -> None:
        """Apply ``change``: the cameras removed or replaced are stopped side by side (each
        within ``stop_timeout`` seconds) and their frames forgotten before the new ones
        start. ``KeyError`` for a name to replace or remove that does not run, or an added
        name that does; nothing is changed then."""
        with self._change_lock:
            running = self._running
            unknown = [s.name for s in change.replace if s.name not in running] + [
                name for name in change.remove if name not in running]
            if unknown:
                raise KeyError(f"no running camera {unknown[0]!r}")
            taken = [s.name for s in change.add if s.name in running]
            if taken:
                raise KeyError(f"camera {taken[0]!r} runs already")
            ended = [running[s.name] for s in change.replace] + [
                running[name] for name in change.remove]
            _stop_all([camera.capture for camera in ended], stop_timeout)
            for camera in ended:
                self._store.reset(camera.name)
            after = dict(running)
            for name in change.remove:
                del after[name]
            fresh = [self._camera(source) for source in [*change.replace, *change.add]]
            for camera in fresh:
                after[camera.name] = camera
            if change.order is not None:
                after = {name: after[name] for name in change.order if name in after}
            self._running = after
            self._version += 1
            if self._started:
                for camera in fresh:
                    camera.capture.start()

    def _camera(self, source: CameraSource) -> RunningCamera:
        settings = getattr(source.settings, "geometry", None)
        geometry = (SourceGeometry(source.name, settings, self._payload_pose)
                    if settings is not None else None)
        return RunningCamera(source, self._make_capture(source), geometry)


def _stop_all(captures: Sequence[CaptureThread], timeout: float) -> None:
    """Stop ``captures`` in parallel, each within ``timeout`` seconds."""
    threads = [threading.Thread(target=c.stop, args=(timeout,), name=f"stop-{c.name}",
                                daemon=True) for c in captures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 0.5)
