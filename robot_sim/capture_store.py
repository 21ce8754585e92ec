"""In-memory Data Acquisition store: what the robot's DAQ keeps from each capture action."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import List

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_store_pb2 as store_pb2
from bosdyn.api import image_pb2

from robot_sim.clock import timestamp_to_nsec

IMAGE, METADATA, DATA, ALERT = "image", "metadata", "data", "alert"


@dataclass
class StoredItem:
    """One stored capture: its identifier, kind and content."""

    data_id: daq.DataIdentifier
    kind: str
    image: image_pb2.ImageCapture | None = None
    metadata: daq.AssociatedMetadata | None = None
    alert: daq.AssociatedAlertData | None = None
    data: bytes = b""
    file_extension: str = ""


def _same_action(a: daq.CaptureActionId, wanted: daq.CaptureActionId) -> bool:
    """True when ``a`` matches the query ``wanted``; its empty fields match anything (the
    SDK's ``make_time_query_params_from_group_name`` asks by group name alone)."""
    return ((not wanted.action_name or a.action_name == wanted.action_name)
            and (not wanted.group_name or a.group_name == wanted.group_name)
            and (not wanted.HasField("timestamp") or a.timestamp == wanted.timestamp))


def _in_time_range(action: daq.CaptureActionId, time_range) -> bool:
    stamp = timestamp_to_nsec(action.timestamp)
    if time_range.HasField("from_timestamp") and stamp < timestamp_to_nsec(
            time_range.from_timestamp):
        return False
    return not (time_range.HasField("to_timestamp")
                and stamp > timestamp_to_nsec(time_range.to_timestamp))


class CaptureStore:
    """Thread-safe list of stored items with the store service's query semantics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: List[StoredItem] = []

    def add(self, item: StoredItem) -> int:
        """Store ``item``; returns its capture id (1, 2, ...), also set in its data_id."""
        with self._lock:
            item.data_id.id = len(self._items) + 1
            self._items.append(item)
            return item.data_id.id

    def max_capture_id(self) -> int:
        """The id of the newest capture (0 when empty)."""
        with self._lock:
            return len(self._items)

    def select(self, kind: str | None = None,
               query: store_pb2.DataQueryParams | None = None) -> List[StoredItem]:
        """Items of ``kind`` (any when None) matching a ``DataQueryParams`` query."""
        with self._lock:
            items = list(self._items)
        if kind is not None:
            items = [i for i in items if i.kind == kind]
        if query is not None and query.HasField("time_range"):
            items = [i for i in items if _in_time_range(i.data_id.action_id, query.time_range)]
        if query is not None and query.HasField("action_ids"):
            wanted = query.action_ids.action_ids
            items = [i for i in items
                     if any(_same_action(i.data_id.action_id, w) for w in wanted)]
        return items

    def action_ids(self, query: store_pb2.DataQueryParams | None = None
                   ) -> List[daq.CaptureActionId]:
        """Distinct capture actions among the matching items, in capture order."""
        actions: List[daq.CaptureActionId] = []
        for item in self.select(None, query):
            if not any(a == item.data_id.action_id for a in actions):
                actions.append(item.data_id.action_id)
        return actions

    def query(self, params: store_pb2.QueryParameters) -> store_pb2.QueryStoredCapturesResponse:
        """Answer QueryStoredCaptures (time range, action ids, channels, kinds, from id)."""
        legacy = store_pb2.DataQueryParams()
        if params.HasField("time_range"):
            legacy.time_range.CopyFrom(params.time_range)
        if params.action_ids:
            legacy.action_ids.action_ids.extend(params.action_ids)
        kinds = {IMAGE: params.include_images, METADATA: params.include_metadata,
                 DATA: params.include_data or params.include_large, ALERT: params.include_alerts}
        if not any(kinds.values()):
            kinds = dict.fromkeys(kinds, True)
        items = [i for i in self.select(None, legacy) if kinds[i.kind]
                 and i.data_id.id >= params.captures_from_id
                 and (not params.channels or i.data_id.channel in params.channels)]
        if params.order_descending:
            items.reverse()
        response = store_pb2.QueryStoredCapturesResponse(max_capture_id=self.max_capture_id())
        for item in items:
            result = response.results.add(data_id=item.data_id)
            if params.only_include_identifiers:
                continue
            if item.image is not None:
                result.image.CopyFrom(item.image)
            if item.metadata is not None:
                result.metadata.CopyFrom(item.metadata)
            if item.alert is not None:
                result.alert_data.CopyFrom(item.alert)
            if item.kind == DATA:
                result.data.data = item.data
                result.data.file_extension = item.file_extension
        for action in self.action_ids(legacy):
            response.action_ids.add().CopyFrom(action)
        return response
