"""The clips the robot's Data Acquisition store holds, through the SDK's store client.

A clip is what the camera service's clips plugin stored for one ``<source>-clip`` capture:
a piece ``clip`` (``.mkv``) and a piece ``metadata`` (``.json``) on the channel of the
capability's name, under the capture action's id.

Listing asks ``QueryStoredCaptures`` for identifiers only (``only_include_identifiers``,
data captures, newest first): no clip bytes travel, and the robot bounds the answer itself
(one response holds as many identifiers as fit its internal size limit). The viewer shows at
most ``page_size`` of them per page; ``before`` (a capture id) asks for the next page.

Fetching asks ``QueryStoredCaptures`` for that one capture (its channel and action, from its
id on): the gRPC store client, not the REST ``download_data_REST``, because the query can
name one capture (the REST download takes a time range and answers a ZIP of everything in
it), it runs through the viewer's logged-in, certificate-checked session (the SDK's REST
helper turns TLS verification off and prints to stdout) and needs no second address.
The SDK assembles the streamed answer in memory before the size limit is checked (the
robot's answer is bounded by its own size limit); the clip is then written to the caller's
file and the answer dropped. ``large_data`` answers (a real robot's class for large captures;
the simulator answers ``data``) are put together by offset and checked against the chunk's
``total_size``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import BinaryIO, List, Optional

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient
from bosdyn.client.robot import Robot
from camera_service.web.errors import WebError

CLIP_SUFFIX = "-clip"  # the plugin's capability (and channel) names: <source>-clip
CLIP_PIECE = "clip"  # data_name of the .mkv piece (the other one is "metadata")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class UnknownClip(WebError, kind="unknown_clip", http_status=404):
    """No clip of that id in the robot's store; HTTP 404."""


class ClipTooLarge(WebError, kind="clip_too_large", http_status=413):
    """A clip over the viewer's size limit; HTTP 413."""


class ClipUnreadable(WebError, kind="clip_unreadable", http_status=502):
    """The robot's answer does not hold the clip's bytes whole; HTTP 502."""


@dataclass(frozen=True)
class ClipSummary:
    """What the viewer learnt from a clip's file it fetched (absent until then)."""

    frames: int
    duration_s: float


def is_clip(data_id: daq.DataIdentifier) -> bool:
    """True for the ``.mkv`` piece of a clips-plugin capture."""
    return data_id.data_name == CLIP_PIECE and data_id.channel.endswith(CLIP_SUFFIX)


def _seconds(stamp) -> float:
    return stamp.seconds + stamp.nanos * 1e-9


def describe(data_id: daq.DataIdentifier, summary: Optional[ClipSummary]) -> dict:
    """One clip for the page (``/api/clips``)."""
    action = data_id.action_id
    return {
        "id": data_id.id,
        "source": data_id.channel[: -len(CLIP_SUFFIX)],
        "channel": data_id.channel,
        "action": action.action_name,
        "group": action.group_name,
        "action_time": _seconds(action.timestamp),  # robot clock, epoch seconds
        "frames": summary.frames if summary else None,
        "duration_s": summary.duration_s if summary else None,
    }


def filename_of(data_id: daq.DataIdentifier) -> str:
    """A file name for the download: ``<group> <action> <channel>.mkv`` with characters a
    file system or a header would mind replaced by ``_``."""
    action = data_id.action_id
    parts = [action.group_name, action.action_name, data_id.channel]
    text = " ".join(part for part in parts if part) or f"clip {data_id.id}"
    safe = "".join(c if c.isalnum() or c in " -_.()" else "_" for c in text).strip(" .")
    return (safe or f"clip {data_id.id}")[:150] + ".mkv"


class ClipCatalog:
    """The robot's clips through ``DataAcquisitionStoreClient`` (see the module doc).

    Remembers the identifiers it listed (a fetch needs a clip's channel and action) and the
    summaries of fetched clips, both bounded to ``remembered`` entries. Thread-safe.
    Methods raise the SDK's exceptions (the caller, ``ViewerConnection``, translates them)
    or ``UnknownClip`` / ``ClipTooLarge`` / ``ClipUnreadable``.
    """

    def __init__(self, rpc_timeout: float, remembered: int = 2000) -> None:
        self.rpc_timeout = rpc_timeout
        self._remembered = remembered
        self._lock = threading.Lock()
        self._ids: OrderedDict[int, daq.DataIdentifier] = OrderedDict()
        self._summaries: OrderedDict[int, ClipSummary] = OrderedDict()

    # ----- listing ----------------------------------------------------------------------

    def list_clips(self, robot: Robot, page_size: int, before: Optional[int]) -> dict:
        """``{"clips": [...newest first, at most page_size], "more": bool, "next_before":
        id or None, "page_size": n}``; ``before``: only clips with smaller capture ids."""
        clips = [data_id for data_id in self._query_ids(robot)
                 if before is None or data_id.id < before]
        page, more = clips[:page_size], len(clips) > page_size
        with self._lock:
            summaries = {i.id: self._summaries.get(i.id) for i in page}
        return {
            "clips": [describe(data_id, summaries[data_id.id]) for data_id in page],
            "more": more,
            "next_before": page[-1].id if more else None,
            "page_size": page_size,
        }

    def _query_ids(self, robot: Robot) -> List[daq.DataIdentifier]:
        """Every clip identifier of one store answer, newest first (remembered)."""
        query = store_pb2.QueryParameters(include_data=True, include_large=True,
                                          only_include_identifiers=True,
                                          order_descending=True)
        response = _store(robot).query_stored_captures(query, timeout=self.rpc_timeout)
        found = [result.data_id for result in response.results if is_clip(result.data_id)]
        found.sort(key=lambda data_id: data_id.id, reverse=True)
        with self._lock:
            for data_id in reversed(found):
                _remember(self._ids, data_id.id, data_id, self._remembered)
        return found

    def identifier(self, robot: Robot, clip_id: int) -> daq.DataIdentifier:
        """The clip's identifier (remembered, else listed again). Raises ``UnknownClip``."""
        with self._lock:
            known = self._ids.get(clip_id)
        if known is not None:
            return known
        for data_id in self._query_ids(robot):
            if data_id.id == clip_id:
                return data_id
        raise UnknownClip(f"no clip with id {clip_id} in the robot's Data Acquisition store; "
                          "refresh the clips list")

    # ----- fetching ---------------------------------------------------------------------

    def fetch(self, robot: Robot, clip_id: int, out: BinaryIO, max_bytes: int
              ) -> daq.DataIdentifier:
        """Write clip ``clip_id``'s ``.mkv`` bytes, as stored, to ``out``; returns its
        identifier. Raises ``UnknownClip``, ``ClipTooLarge`` (over ``max_bytes``, nothing
        written) or ``ClipUnreadable``."""
        data_id = self.identifier(robot, clip_id)
        query = store_pb2.QueryParameters(channels=[data_id.channel],
                                          action_ids=[data_id.action_id],
                                          captures_from_id=clip_id, include_data=True,
                                          include_large=True)
        response = _store(robot).query_stored_captures(query, timeout=self.rpc_timeout)
        mine = [result for result in response.results if result.data_id.id == clip_id]
        if not mine:
            raise UnknownClip(f"clip {clip_id} is no longer in the robot's store; refresh the "
                              "clips list")
        if mine[0].HasField("data"):
            _write_limited(out, clip_id, [(0, mine[0].data.data)], len(mine[0].data.data),
                           max_bytes)
        else:
            pieces = [(r.large_data.offset, r.large_data.chunk.data) for r in mine
                      if r.HasField("large_data")]
            total = mine[0].large_data.chunk.total_size if pieces else 0
            _write_limited(out, clip_id, pieces, total, max_bytes)
        return data_id

    def remember_summary(self, clip_id: int, summary: ClipSummary) -> None:
        with self._lock:
            _remember(self._summaries, clip_id, summary, self._remembered)


def _store(robot: Robot) -> DataAcquisitionStoreClient:
    return robot.ensure_client(DataAcquisitionStoreClient.default_service_name)


def _remember(cache: OrderedDict, key: int, value, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


def _write_limited(out: BinaryIO, clip_id: int, pieces: list, total: int, max_bytes: int
                   ) -> None:
    """Write ``pieces`` ((offset, bytes)) of a ``total``-byte clip to ``out``."""
    if total > max_bytes:
        raise ClipTooLarge(
            f"clip {clip_id} is {total / 2**20:.0f} MiB, over the viewer's limit of "
            f"{max_bytes / 2**20:.0f} MiB; download it with the robot's Data Acquisition "
            "download instead")
    received = sum(len(data) for _offset, data in pieces)
    if total == 0 or received != total:
        raise ClipUnreadable(f"the robot's store answered {received} of clip {clip_id}'s "
                             f"{total} bytes")
    for offset, data in sorted(pieces, key=lambda piece: piece[0]):
        out.seek(offset)
        out.write(data)
    out.flush()
