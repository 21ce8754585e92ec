"""A tiny Data Acquisition plugin built with the SDK's own helpers, for the simulator tests.

``DataAcquisitionPluginService`` answers the plugin RPCs; the collection function stores
through the ``DataAcquisitionStoreHelper`` it is handed (StoreData on the robot). Capabilities:

* ``tiny-blob``: stores ``BLOB`` on channel ``tiny-blob`` at once;
* ``held-blob``: holds until ``release`` is set (then stores ``BLOB``) or the request is
  cancelled; the robot's Data Acquisition is given a far deadline (``timeout_deadline`` one
  hour ahead in robot time) as the Data Acquisition guide describes;
* ``broken-blob``: reports a DataError (``BROKEN_MESSAGE``) and stores nothing;
* ``live-blob``: stores ``BLOB`` and has live data (GetLiveData answers one signal-less entry);
* ``copied-blob``: custom parameter ``copies`` (1-3, default 1): stores ``BLOB * copies``;
* ``filed-blob``: writes ``FILED_BLOB`` (6 MB) to a file and stores the file in chunks
  (``store_file``: StoreDataStream), as a plugin storing a recording would.

With ``hold_cancel_checks`` every capture of an action whose name starts with ``cancel`` holds
until cancelled: the Spot SDK's plugin tester cancels such actions right after starting them,
and a capture that already finished cannot be cancelled.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Sequence

import grpc
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_plugin_service_pb2_grpc as plugin_grpc
from bosdyn.client.data_acquisition_plugin_service import (
    Capability,
    DataAcquisitionPluginService,
    RequestCancelledError,
    make_error,
)
from bosdyn.client.directory_registration import DirectoryRegistrationClient
from bosdyn.client.service_customization_helpers import (
    make_dict_child_spec,
    make_dict_param_spec,
    make_int64_param_spec,
)

SERVICE_NAME = "tiny-plugin"
SERVICE_TYPE = DataAcquisitionPluginService.service_type
#: 300 kB of every byte value, deterministic, so a corrupted byte anywhere shows.
BLOB = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(9375))
BROKEN_MESSAGE = "tiny sensor unplugged"
CAPABILITIES = [
    Capability(name="tiny-blob", description="A tiny blob", channel_name="tiny-blob"),
    Capability(name="held-blob", description="A blob that waits for its release",
               channel_name="held-blob"),
    Capability(name="broken-blob", description="A sensor that fails",
               channel_name="broken-blob"),
    Capability(name="live-blob", description="A blob with live data",
               channel_name="live-blob", has_live_data=True),
    Capability(name="copied-blob", description="The blob, copied", channel_name="copied-blob",
               custom_params=make_dict_param_spec(
                   {"copies": make_dict_child_spec(make_int64_param_spec(1, None, 1, 3))},
                   is_hidden_by_default=False)),
    Capability(name="filed-blob", description="A big blob from a file",
               channel_name="filed-blob"),
]
FILED_BLOB = BLOB * 20
HOLD_STEP_SECONDS = 0.02
LiveData = daq.LiveDataResponse.CapabilityLiveData


class TinyPlugin:
    """The collection behaviour (see the module docstring) and what it saw."""

    def __init__(self, robot, hold_cancel_checks: bool = False) -> None:
        self.robot = robot
        self.folder = Path(tempfile.mkdtemp(prefix="tiny-plugin-"))
        self.hold_cancel_checks = hold_cancel_checks
        self.release = threading.Event()
        self.started = threading.Event()  # a held capture is under way
        self.cancelled = threading.Event()  # a held capture saw its cancellation
        self.requests = []  # the AcquirePluginDataRequests received

    def collect(self, request: daq.AcquirePluginDataRequest, store_helper) -> None:
        self.requests.append(request)
        hold_all = (self.hold_cancel_checks
                    and request.action_id.action_name.startswith("cancel"))
        for capture in request.acquisition_requests.data_captures:
            data_id = daq.DataIdentifier(action_id=request.action_id, channel=capture.name)
            if capture.name == "broken-blob":
                store_helper.state.add_errors([make_error(data_id, BROKEN_MESSAGE)])
                continue
            if capture.name == "filed-blob":
                path = self.folder / f"{len(self.requests)}.bin"
                path.write_bytes(FILED_BLOB)
                store_helper.store_file(str(path), data_id, file_extension="bin")
                continue
            if capture.name == "held-blob" or hold_all:
                self._hold(store_helper, until=None if hold_all else self.release)
            copies = 1
            if "copies" in capture.custom_params.values:
                copies = capture.custom_params.values["copies"].int_value.value
            store_helper.store_data(BLOB * copies, data_id, file_extension="bin")

    def _hold(self, store_helper, until: threading.Event | None) -> None:
        """Wait for ``until`` (None: until cancelled), checking for a cancel as the SDK asks."""
        self.started.set()
        gate = until or threading.Event()
        try:
            while not gate.wait(HOLD_STEP_SECONDS):
                store_helper.cancel_check()
        except RequestCancelledError:
            self.cancelled.set()
            raise

    def acquire_response(self, request, response) -> bool:
        """Extend the robot's deadline for held captures (robot clock, via time sync)."""
        if any(c.name == "held-blob" for c in request.acquisition_requests.data_captures):
            response.timeout_deadline.CopyFrom(
                self.robot.time_sync.robot_timestamp_from_local_secs(time.time() + 3600))
        return True

    def live(self, request: daq.LiveDataRequest) -> daq.LiveDataResponse:
        return daq.LiveDataResponse(live_data=[
            LiveData(name=c.name, status=LiveData.STATUS_OK) for c in request.data_captures])


class PluginServer:
    """The tiny plugin served on a loopback port and registered in the robot's directory."""

    def __init__(self, robot, hold_cancel_checks: bool = False,
                 capabilities: Sequence[str] | None = None) -> None:
        """``capabilities``: the names offered (default all of ``CAPABILITIES``)."""
        robot.time_sync.wait_for_sync(timeout_sec=5)
        self.plugin = TinyPlugin(robot, hold_cancel_checks)
        offered = [c for c in CAPABILITIES if capabilities is None or c.name in capabilities]
        self.service = DataAcquisitionPluginService(
            robot, offered, self.plugin.collect, self.plugin.acquire_response,
            live_response_fn=self.plugin.live)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        plugin_grpc.add_DataAcquisitionPluginServiceServicer_to_server(self.service, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        robot.ensure_client(DirectoryRegistrationClient.default_service_name).register(
            SERVICE_NAME, SERVICE_TYPE, SERVICE_NAME, "127.0.0.1", self.port)

    def stop(self) -> None:
        self.plugin.release.set()
        shutil.rmtree(self.plugin.folder, ignore_errors=True)
        self.server.stop(None)
        self.service.executor.shutdown(wait=False)
