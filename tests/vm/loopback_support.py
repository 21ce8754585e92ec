"""MJPEG cameras through the guest kernel: v4l2loopback devices fed like UVC cameras.

``LoopbackCameras`` loads the image's v4l2loopback module with one device per camera label
(``/dev/loop-cameras/<label>`` is the stable name the image's udev rule gives it, whatever
``/dev/videoN`` it gets), runs one ``fake_cameras.loopback_feeder`` per device in the guest,
and "unplugs" them by deleting the devices (module unload) and "replugs" them by creating
them again under other node numbers. Frame sets are made on the host
(``uvc_frames.camera_stream``) and shared through the transfer folder, so the host knows the
exact bytes every frame was sent with.

The scenario helpers below are written against ``ServiceProbe`` (counters, CPU time, log)
so the native service and the installed extension run the same checks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Protocol, Sequence, Set, Tuple

from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, build_image_request
from camera_service.core import jpeg

from devtools.polling import wait_for
from fake_cameras import loopback_feeder, uvc_frames
from fake_cameras.loopback_feeder import FrameSet
from vm.machine import GUEST_PYTHON, GUEST_PYTHON_ENV, GUEST_XFER, Machine

STABLE_DIR = "/dev/loop-cameras"
#: Frames the UVC-like cameras send: A mixes the shapes a service must serve (normalized),
#: B also sends the ones it must drop.
SERVED_MIX = ("none", "no_dht", "avi1", "padding")
DAMAGED = ("truncated", "corrupt")


def stable_name(label: str) -> str:
    return f"{STABLE_DIR}/{label}"


def expected_served(frame_set: FrameSet) -> Set[bytes]:
    """The bytes a correct service serves for the frames of ``frame_set`` it must serve."""
    return {jpeg.normalized(frame, jpeg.parse(frame))
            for frame, quirk in zip(frame_set.frames, frame_set.quirks)
            if quirk in uvc_frames.SERVED_AS_IS}


class LoopbackCameras:
    """v4l2loopback devices in the guest, one feeder each (see module doc)."""

    def __init__(self, machine: Machine, labels: Sequence[str]) -> None:
        self.machine = machine
        self.labels = tuple(labels)
        self.streams: Dict[str, FrameSet] = {}

    # -- devices ---------------------------------------------------------------------------
    def load(self, first_node: int) -> None:
        """Create one device per label at /dev/video<first_node>... and wait for udev."""
        numbers = ",".join(str(first_node + i) for i in range(len(self.labels)))
        flags = ",".join("1" for _ in self.labels)
        self.machine.run(f"modprobe v4l2loopback devices={len(self.labels)} "
                         f"video_nr={numbers} card_label={','.join(self.labels)} "
                         f"exclusive_caps={flags} max_buffers=8 && udevadm settle")
        wait_for(lambda: all(self.node(label) for label in self.labels), 30,
                   f"udev names {STABLE_DIR}/* for {', '.join(self.labels)}", interval=0.5)

    def node(self, label: str) -> str:
        """The /dev/videoN the label's stable name points to ('' when absent)."""
        return self.machine.run(f"readlink -e {stable_name(label)}", check=False).stdout.strip()

    def unload(self, timeout: float = 60.0) -> None:
        """Delete every device (module unload). Refused while a reader holds a node open:
        retried until the service has closed them (it does once frames stop)."""
        wait_for(lambda: self.machine.run("modprobe -r v4l2loopback", check=False)
                   .returncode == 0, timeout, "v4l2loopback to unload (nodes closed)",
                   interval=0.2)
        self.machine.run("udevadm settle")

    # -- feeders ---------------------------------------------------------------------------
    def pid_file(self, label: str) -> str:
        return self._files(label)[2]

    def _files(self, label: str) -> Tuple[str, str, str]:
        return (f"{GUEST_XFER}/{label}.frames", f"{GUEST_XFER}/{label}.stats.json",
                f"/run/feeder-{label}.pid")

    def start_feeder(self, label: str, stream: Optional[FrameSet] = None) -> None:
        """Feed ``stream`` (default: the label's last one) into the label's device."""
        stream = stream or self.streams[label]
        self.streams[label] = stream
        frames, stats, pid = self._files(label)
        loopback_feeder.write_frame_set(str(self.machine.xfer_dir / f"{label}.frames"), stream)
        (self.machine.xfer_dir / f"{label}.stats.json").unlink(missing_ok=True)
        env = " ".join(f"{key}={value}" for key, value in GUEST_PYTHON_ENV.items())
        self.machine.run(
            f"nohup sh -c 'echo $$ > {pid}; exec env {env} {GUEST_PYTHON} -m "
            f"fake_cameras.loopback_feeder --device {stable_name(label)} --frames {frames} "
            f"--stats {stats}' > /run/feeder-{label}.log 2>&1 &")
        try:
            wait_for(lambda: self.feeder_stats(label).get("written", 0) > 0, 60,
                       f"the {label} feeder to write frames", interval=0.5)
        except TimeoutError as err:
            log = self.machine.run(f"cat /run/feeder-{label}.log", check=False).stdout
            raise TimeoutError(f"{err}; its log:\n{log[-2000:]}") from None

    def switch(self, label: str, stream: FrameSet) -> None:
        """The running feeder continues with ``stream`` (same size), without a gap."""
        temporary = self.machine.xfer_dir / f"{label}.frames.new"
        loopback_feeder.write_frame_set(str(temporary), stream)
        temporary.replace(self.machine.xfer_dir / f"{label}.frames")
        self.streams[label] = stream
        self._signal(label, "HUP")

    def _signal(self, label: str, signal: str) -> None:
        self.machine.run(f"kill -{signal} $(cat {self._files(label)[2]})")

    def pause(self, label: str) -> Dict:
        """Stall the feeder (node kept open, no frames); returns its statistics then."""
        self._signal(label, "USR2")
        return wait_for(lambda: _paused(self.feeder_stats(label)), 30,
                          f"the {label} feeder to pause", interval=0.5)

    def resume(self, label: str) -> None:
        self._signal(label, "USR2")

    def stop_feeders(self, labels: Sequence[str]) -> None:
        """End these feeders at once (the cameras stop for good); returns when they exited."""
        pids = " ".join(f"$(cat {self.pid_file(label)})" for label in labels)
        self.machine.run(f"kill {pids}; while kill -0 {pids} 2>/dev/null; do sleep 0.1; done",
                         timeout=60)

    def feeder_stats(self, label: str) -> Dict:
        path = self.machine.xfer_dir / f"{label}.stats.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def stop_all(self) -> None:
        for label in self.labels:
            self.machine.run(f"kill $(cat {self._files(label)[2]}) 2>/dev/null; true",
                             check=False)


def _paused(stats: Dict) -> Optional[Dict]:
    return stats if stats.get("paused") else None


class ServiceProbe(Protocol):
    """What the scenarios read from a running service (native process or container)."""

    def counters(self, around: str = "{signal}") -> Dict: ...
    def cpu_seconds(self) -> float: ...
    def log(self) -> str: ...


@dataclass
class Served:
    """GetImage responses collected for one source over a window."""

    responses: int
    identical: int
    distinct: int
    seconds: float

    @property
    def identical_percent(self) -> float:
        return 100.0 * self.identical / self.responses if self.responses else 0.0

    @property
    def fresh_per_second(self) -> float:
        return self.distinct / self.seconds if self.seconds else 0.0


def collect(client: ImageClient, source: str, expected: Set[bytes], window: float,
            interval: float = 0.0) -> Served:
    """Poll GetImage with the SDK's default request (JPEG, quality 75), like the tablet, for
    ``window`` seconds; counts responses whose bytes are one of ``expected`` and distinct
    frames (acquisition times)."""
    request = build_image_request(source, image_format=image_pb2.Image.FORMAT_JPEG)
    responses = identical = 0
    stamps = set()
    started = time.monotonic()
    while time.monotonic() - started < window:
        response = client.get_image([request], timeout=10)[0]
        assert response.status == image_pb2.ImageResponse.STATUS_OK, (
            source, response.status, list(response.custom_param_error.error_messages))
        responses += 1
        identical += response.shot.image.data in expected
        stamps.add((response.shot.acquisition_time.seconds,
                    response.shot.acquisition_time.nanos))
        if interval:
            time.sleep(interval)
    return Served(responses, identical, len(stamps), time.monotonic() - started)


def frame_rates(probe: ServiceProbe, cameras: LoopbackCameras, source_of: Dict[str, str],
                window: float) -> Dict[str, Tuple[float, float]]:
    """Per label: (frames/s the service stored, frames/s the feeder wrote) over about
    ``window`` seconds, each timed by the guest's clock where it was counted."""
    before = probe.counters(), {label: cameras.feeder_stats(label) for label in source_of}
    time.sleep(window)
    after = probe.counters(), {label: cameras.feeder_stats(label) for label in source_of}
    rates = {}
    for label, source in source_of.items():
        stored = after[0]["frames"][source] - before[0]["frames"][source]
        written = after[1][label]["written"] - before[1][label]["written"]
        rates[label] = (stored / (after[0]["at"] - before[0]["at"]),
                        written / (after[1][label]["at"] - before[1][label]["at"]))
    return rates


@dataclass
class Tally:
    """What a feeder sent and what the service made of it between two moments.

    v4l2loopback, like a UVC driver, never lets a reader fall more than two frames behind:
    a reader that was late skips to the newest frame, so ``lost`` frames were never read.
    Each lost frame may have been a damaged one: ``consistent`` holds when the drops match
    the damaged frames sent, give or take the lost ones (exactly, when none was lost).
    """

    written: int  # frames the feeder wrote
    damaged_sent: int  # of them truncated or corrupt
    read: int  # frames the service read (passed + dropped)
    damaged_dropped: int  # truncated or corrupt frames the service dropped
    truncated: Tuple[int, int]  # (sent, dropped)

    @property
    def lost(self) -> int:
        return self.written - self.read

    @property
    def consistent(self) -> bool:
        return all(sent - self.lost <= dropped_ <= sent for sent, dropped_ in (
            (self.damaged_sent, self.damaged_dropped), self.truncated))


def tally(probe: ServiceProbe, cameras: LoopbackCameras, label: str, source: str,
          window: float) -> Tally:
    """Counts over ``window`` seconds, each end taken while the feeder is paused for half a
    second (the service has read everything written; shorter than the 2 s after which a
    silent camera is reopened), the service's counters logged in that pause."""
    pid = cameras.pid_file(label)
    pause = f"kill -USR2 $(cat {pid}); sleep 0.5; {{signal}}; kill -USR2 $(cat {pid})"

    def snapshot():
        pauses = len(cameras.feeder_stats(label).get("at_pauses", []))
        counters = probe.counters(around=pause)
        sent = wait_for(lambda: cameras.feeder_stats(label).get("at_pauses", [])[pauses:],
                          10, "the feeder's counts at the pause", interval=0.5)[0]
        hygiene = counters["frame_hygiene"][source]
        return sent, hygiene["passed"] + sum(hygiene["dropped"].values()), counters

    (sent0, read0, counters0) = snapshot()
    time.sleep(window)
    (sent1, read1, counters1) = snapshot()
    by_quirk = [sent["by_quirk"] for sent in (sent0, sent1)]
    return Tally(
        written=sent1["written"] - sent0["written"],
        damaged_sent=sum(by_quirk[1].get(q, 0) - by_quirk[0].get(q, 0) for q in DAMAGED),
        read=read1 - read0,
        damaged_dropped=dropped(counters1, source) - dropped(counters0, source),
        truncated=(by_quirk[1].get("truncated", 0) - by_quirk[0].get("truncated", 0),
                   dropped(counters1, source, ["truncated"])
                   - dropped(counters0, source, ["truncated"])))


def cpu_ms_per_second(probe: ServiceProbe, work, seconds: float) -> float:
    """The service's CPU (ms per wall second) while ``work()`` runs for about ``seconds``."""
    cpu, wall = probe.cpu_seconds(), time.monotonic()
    work()
    return 1000.0 * (probe.cpu_seconds() - cpu) / (time.monotonic() - wall)


def dropped(counters: Dict, source: str, kinds: Iterable[str] = DAMAGED) -> int:
    """Frames of ``kinds`` the service dropped for ``source`` (its counters)."""
    by_kind = counters["frame_hygiene"][source]["dropped"]
    return sum(by_kind.get(kind, 0) for kind in kinds)

