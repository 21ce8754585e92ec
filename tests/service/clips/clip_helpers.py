"""Helpers of the clips tests: run the service with clip-enabled sources against the robot
simulator, acquire clips as Autowalk does and read what the robot's download holds."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import av
from camera_service.app.service import CameraService
from service_test_helpers import QUICK_RETRY, SERVICE_NAME, service_config

from devtools.polling import wait_for

CLIPS_SERVICE = SERVICE_NAME + "-clips"


def clip_source(name: str, kind: str = "url", pre_roll_s: float = 2.0, **options) -> dict:
    return {"name": name, "type": kind, "clips": {"enabled": True, "pre_roll_s": pre_roll_s},
            **options}


def start_clip_service(sim, started: list, sources: List[dict], built=None, **robot):
    """The whole service registering with ``sim`` (config ``sources``, or the ``built``
    sources), appended to ``started``; waits for its plugin to be listed and every ring to
    hold its full pre-roll; returns (service, user robot, delivered): ``delivered[source]``
    maps the serial of every frame the source delivered to its local capture time."""
    service = CameraService(service_config(sim, sources, **robot), sources=built,
                            retry=QUICK_RETRY)
    started.append(service)
    delivered: Dict[str, Dict[int, float]] = {}
    for source in service.sources:
        times = delivered[source.name] = {}
        service.store.subscribe(source.name, lambda stored, times=times: (
            stored is not None and times.__setitem__(stored.serial, stored.frame.capture_time)))
    service.start()
    wait_for(lambda: sim.wait_for_service(CLIPS_SERVICE), timeout=20)
    wait_for(lambda: service.link.connected and service.clock.established, timeout=20)
    for ring in service.clips.rings.values():
        wait_for(lambda ring=ring: ring.held_seconds() >= ring.pre_roll_s, timeout=20)
    robot = sim.sdk_robot()
    robot.time_sync.wait_for_sync(timeout_sec=5)
    return service, robot, delivered


@dataclass
class DownloadedClip:
    """One clip from the download: its packets per track and its metadata."""

    path: Path
    metadata: dict
    packets: Dict[int, List[bytes]]
    pts_ms: List[int]

    @property
    def jpegs(self) -> List[bytes]:
        return self.packets[0]


def clips_in(files: Dict[str, bytes], folder: Path) -> Dict[str, DownloadedClip]:
    """The clips of a downloaded group by capability name (``<action> <channel> clip.mkv``
    with its ``... metadata.json``)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, content in files.items():
        if not name.endswith(" clip.mkv"):
            continue
        stem = name[: -len(" clip.mkv")]
        metadata = json.loads(files[stem + " metadata.json"])
        path = folder / Path(name).name
        path.write_bytes(content)
        packets: Dict[int, List[bytes]] = {}
        pts: List[int] = []
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.size == 0:
                    continue
                packets.setdefault(packet.stream.index, []).append(bytes(packet))
                if packet.stream.index == 0:
                    pts.append(int(packet.pts))
        found[metadata["capability"]] = DownloadedClip(path, metadata, packets, pts)
    return found


def ffprobe_frames(path: Path) -> List[dict]:
    """ffprobe's view of ``path``: one entry per stream (codec, frames counted)."""
    assert shutil.which("ffprobe"), "ffprobe missing: run tools/provision.sh (ffmpeg)"
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=index,codec_name,pix_fmt,width,height,nb_read_packets", "-of", "json",
         str(path)], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)["streams"]
