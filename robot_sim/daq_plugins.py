"""Data Acquisition plugins as the robot's Data Acquisition service drives them.

Plugins are the services registered in the directory with type
``bosdyn.api.DataAcquisitionPluginService``; the robot calls them on the host:port they
registered, over plain gRPC, with the caller's token (as it calls image services).

* ``list_capabilities`` asks every plugin for its capabilities (GetServiceInfo) and stamps each
  with the plugin's directory name (``service_name``), grouped per plugin.
* ``PluginPart`` is one plugin's share of an acquisition: ``start`` sends AcquirePluginData,
  ``follow`` polls the plugin's GetStatus into the ``Acquisition`` until the plugin ends,
  forwarding a cancel (CancelAcquisition) and cancelling the plugin when the deadline passes.
"""

from __future__ import annotations

import logging
from typing import List, Tuple

import grpc
from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import data_acquisition_plugin_service_pb2_grpc as plugin_grpc
from bosdyn.api import header_pb2

from robot_sim.clock import RobotClock, timestamp_to_nsec
from robot_sim.daq_acquisition import Acquisition, is_running
from robot_sim.routing import Router
from robot_sim.state import Registration, RobotState

LOG = logging.getLogger("robot_sim")
PLUGIN_SERVICE_TYPE = "bosdyn.api.DataAcquisitionPluginService"
CALL_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.1
Status = daq.GetStatusResponse
ServiceError = daq.PluginServiceError
PluginResponse = daq.AcquirePluginDataResponse


def plugin_stub(router: Router, registration: Registration):
    """A stub for the plugin's own endpoint."""
    return plugin_grpc.DataAcquisitionPluginServiceStub(
        router.channel(registration.host, registration.port))


def list_capabilities(state: RobotState, router: Router, metadata
                      ) -> List[Tuple[Registration, List[daq.DataAcquisitionCapability]]]:
    """Each registered plugin with its data capabilities (``service_name`` set); a plugin
    that does not answer is left out (and logged)."""
    found = []
    for registration in state.registrations_of_type(PLUGIN_SERVICE_TYPE):
        try:
            response = plugin_stub(router, registration).GetServiceInfo(
                daq.GetServiceInfoRequest(), metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            LOG.warning("data acquisition: plugin %s did not list its capabilities (%s)",
                        registration.entry.name, exc.code().name)
            continue
        capabilities = []
        for source in response.capabilities.data_sources:
            capability = daq.DataAcquisitionCapability()
            capability.CopyFrom(source)
            capability.service_name = registration.entry.name
            capabilities.append(capability)
        found.append((registration, capabilities))
    return found


class PluginRefusedError(Exception):
    """The plugin refused the request: ``status`` (AcquirePluginDataResponse.Status) and a
    message naming the capture and the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PluginPart:
    """One plugin's captures of an acquisition (see the module docstring)."""

    def __init__(self, registration: Registration, router: Router, metadata) -> None:
        self.registration = registration
        self.name = registration.entry.name
        self._stub = plugin_stub(router, registration)
        self._metadata = metadata
        self.request_id: int | None = None

    def start(self, request: daq.AcquirePluginDataRequest, acquisition: Acquisition) -> None:
        """Send AcquirePluginData. Raises ``PluginRefusedError`` when the plugin refuses the
        captures; a plugin that cannot be reached or fails becomes a service error."""
        try:
            response = self._stub.AcquirePluginData(request, metadata=self._metadata,
                                                    timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            self._fail(acquisition, f"AcquirePluginData failed ({exc.code().name})")
            return
        if response.status == PluginResponse.STATUS_UNKNOWN_CAPTURE_TYPE:
            raise PluginRefusedError(response.status,
                                     f"plugin {self.name} does not know the capture type")
        if response.status == PluginResponse.STATUS_CUSTOM_PARAMS_ERROR:
            error = response.custom_param_error
            raise PluginRefusedError(response.status, "plugin {}: custom parameter error: {}"
                                     .format(self.name, "; ".join(error.error_messages)
                                             or str(error).strip()))
        if response.header.error.code not in (header_pb2.CommonError.CODE_OK,
                                              header_pb2.CommonError.CODE_UNSPECIFIED):
            self._fail(acquisition, "AcquirePluginData: " + (response.header.error.message
                                                            or "plugin error"))
            return
        if response.status != PluginResponse.STATUS_OK:
            self._fail(acquisition, "AcquirePluginData answered " +
                       PluginResponse.Status.Name(response.status))
            return
        self.request_id = response.request_id
        if response.HasField("timeout_deadline"):
            acquisition.extend_deadline(timestamp_to_nsec(response.timeout_deadline))

    def _fail(self, acquisition: Acquisition, message: str) -> None:
        LOG.warning("data acquisition: plugin %s: %s", self.name, message)
        acquisition.add_service_error(self.name, ServiceError.STATUS_REQUEST_ERROR, message)

    def cancel(self) -> None:
        """Forward a cancel to the plugin (failures are logged: the deadline still ends it)."""
        try:
            self._stub.CancelAcquisition(daq.CancelAcquisitionRequest(request_id=self.request_id),
                                         metadata=self._metadata, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            LOG.warning("data acquisition: cancel to plugin %s failed (%s)", self.name,
                        exc.code().name)

    def follow(self, acquisition: Acquisition, waker, clock: RobotClock) -> None:
        """Poll the plugin until its request ends (runs on its own thread); ``waker`` is
        set on a cancel. Always ends the part."""
        cancel_sent = False
        try:
            while True:
                if acquisition.cancelled.is_set() and not cancel_sent:
                    self.cancel()
                    cancel_sent = True
                if clock.now_nsec() > acquisition.deadline_nsec:
                    LOG.warning("data acquisition %d: plugin %s passed the deadline",
                                acquisition.request_id, self.name)
                    acquisition.time_out()
                    self.cancel()
                    return
                if not self._poll(acquisition):
                    return
                waker.wait(POLL_SECONDS)
                waker.clear()
        finally:
            acquisition.end_part(self.name)

    def _poll(self, acquisition: Acquisition) -> bool:
        """One GetStatus; False once the plugin's request ended."""
        try:
            status = self._stub.GetStatus(daq.GetStatusRequest(request_id=self.request_id),
                                          metadata=self._metadata, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            acquisition.add_service_error(self.name, ServiceError.STATUS_GETSTATUS_ERROR,
                                          f"GetStatus failed ({exc.code().name})")
            return False
        acquisition.report(self.name, status.status, status.data_saved, status.data_errors)
        if is_running(status.status):
            return True
        if status.status == Status.STATUS_INTERNAL_ERROR:
            acquisition.add_service_error(self.name, ServiceError.STATUS_INTERNAL_ERROR,
                                          status.header.error.message or "internal error")
        elif status.status == Status.STATUS_REQUEST_ID_DOES_NOT_EXIST:
            acquisition.add_service_error(self.name, ServiceError.STATUS_GETSTATUS_ERROR,
                                          f"plugin lost request {self.request_id}")
        elif status.status not in (Status.STATUS_COMPLETE, Status.STATUS_DATA_ERROR,
                                   Status.STATUS_ACQUISITION_CANCELLED):
            acquisition.add_service_error(self.name, ServiceError.STATUS_GETSTATUS_ERROR,
                                          "plugin answered " + Status.Status.Name(status.status))
        for saved in status.service_errors:
            acquisition.add_service_error(saved.service_name or self.name, saved.error,
                                          saved.message)
        return False
