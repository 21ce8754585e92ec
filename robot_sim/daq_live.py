"""GetLiveData on the robot: each capture asked of the plugin owning its capability.

The answer holds one ``CapabilityLiveData`` per requested capture, in request order; a capture
no plugin offers is STATUS_UNKNOWN_CAPTURE_TYPE, a plugin that fails gives STATUS_INTERNAL_ERROR
for its captures. An empty request gets an empty answer.
"""

from __future__ import annotations

import logging
from typing import Dict, List, Tuple

import grpc
from bosdyn.api import data_acquisition_pb2 as daq

from robot_sim.daq_plugins import CALL_TIMEOUT_SECONDS, plugin_stub
from robot_sim.routing import Router
from robot_sim.state import Registration

LOG = logging.getLogger("robot_sim")
LiveData = daq.LiveDataResponse.CapabilityLiveData


def live_data(request: daq.LiveDataRequest,
              listed: List[Tuple[Registration, List[daq.DataAcquisitionCapability]]],
              router: Router, metadata) -> daq.LiveDataResponse:
    """The robot's LiveDataResponse for ``request`` (see the module docstring)."""
    owner = {}
    for registration, capabilities in listed:
        for capability in capabilities:
            owner.setdefault(capability.name, registration)
    answers: Dict[str, LiveData] = {}
    per_plugin: Dict[str, List[daq.DataCapture]] = {}
    for capture in request.data_captures:
        if capture.name in owner:
            per_plugin.setdefault(owner[capture.name].entry.name, []).append(capture)
        else:
            answers[capture.name] = LiveData(name=capture.name,
                                             status=LiveData.STATUS_UNKNOWN_CAPTURE_TYPE)
    for captures in per_plugin.values():
        registration = owner[captures[0].name]
        try:
            response = plugin_stub(router, registration).GetLiveData(
                daq.LiveDataRequest(data_captures=captures), metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS)
            answers.update((item.name, item) for item in response.live_data)
        except grpc.RpcError as exc:
            LOG.warning("data acquisition: live data from %s failed (%s)",
                        registration.entry.name, exc.code().name)
        for capture in captures:
            answers.setdefault(capture.name, LiveData(name=capture.name,
                                                      status=LiveData.STATUS_INTERNAL_ERROR))
    return daq.LiveDataResponse(live_data=[answers[c.name] for c in request.data_captures])
