"""The plugin's gRPC servicer, made before the robot is reachable.

The SDK's ``DataAcquisitionPluginService`` needs an authenticated robot when it is built (it
makes its store and data-buffer clients through the robot's directory), but the server
starts before the robot link has logged in. ``DeferredPluginServicer`` is added to the
server at once and builds the SDK's service on the first call; calls only come once the
plugin is registered, which the link does after logging in. The SDK service's RPC logging to
the robot's data buffer is turned off (see ``_sdk``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from bosdyn.api import data_acquisition_plugin_service_pb2_grpc as plugin_grpc
from bosdyn.client.data_acquisition_plugin_service import DataAcquisitionPluginService
from bosdyn.client.service_customization_helpers import create_value_validator

from camera_service.clips.plugin import ClipPlugin

SERVICE_TYPE = DataAcquisitionPluginService.service_type
NAME_SUFFIX = "-clips"
WORKERS = 4  # acquisitions recorded at once (each records its clips side by side)


class DeferredPluginServicer(plugin_grpc.DataAcquisitionPluginServiceServicer):
    """The plugin RPCs of ``plugin``, answered by the SDK's service built on first use with
    the robot ``robot()`` returns (None while there is none: the call fails)."""

    def __init__(self, plugin: ClipPlugin, robot: Callable[[], object]) -> None:
        self.plugin = plugin
        self._robot = robot
        self._lock = threading.Lock()
        self._service: Optional[DataAcquisitionPluginService] = None
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="clip")

    def _sdk(self) -> DataAcquisitionPluginService:
        with self._lock:
            if self._service is None:
                robot = self._robot()
                if robot is None:
                    raise RuntimeError("the clips plugin is not connected to a robot yet")
                service = DataAcquisitionPluginService(
                    robot, self.plugin.capabilities(), self.plugin.collect,
                    self.plugin.acquire_response, executor=self._executor)
                # No copy of every request and response to the robot's data buffer (the
                # image service logs none either): the robot polls GetStatus ~10 times a
                # second during a clip, and each copy is two more robot calls.
                service.data_buffer_client = None
                self._service = service
            return self._service

    def refresh_capabilities(self) -> None:
        """Offer the plugin's current capabilities (after its sources changed)."""
        with self._lock:
            service = self._service
            if service is None:
                return
            capabilities = self.plugin.capabilities()
            service.value_validators = {c.name: create_value_validator(c.custom_params)
                                        for c in capabilities}
            service.capabilities = capabilities

    def stop(self) -> None:
        """Cancel nothing, wait for nothing: recordings end with their requests."""
        self._executor.shutdown(wait=False)

    def AcquirePluginData(self, request, context):
        return self._sdk().AcquirePluginData(request, context)

    def GetStatus(self, request, context):
        return self._sdk().GetStatus(request, context)

    def GetServiceInfo(self, request, context):
        return self._sdk().GetServiceInfo(request, context)

    def CancelAcquisition(self, request, context):
        return self._sdk().CancelAcquisition(request, context)

    def GetLiveData(self, request, context):
        return self._sdk().GetLiveData(request, context)
