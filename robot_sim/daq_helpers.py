"""Test conveniences: run a Data Acquisition through the simulator and download what it stored,
with the SDK's own clients and helpers (nothing here talks to the robot another way).

    robot = sim.sdk_robot()                      # user-authenticated bosdyn Robot
    status = acquire(robot, data_captures("front-clip", duration_s=5), "clip", group)
    files = download_group(sim, robot, group, tmp_path)   # {"<group>/<file>": bytes}
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable

from bosdyn.api import data_acquisition_pb2 as daq
from bosdyn.api import service_customization_pb2 as custom_pb2
from bosdyn.client.data_acquisition import DataAcquisitionClient
from bosdyn.client.data_acquisition_helpers import (
    clean_filename,
    download_data_REST,
    make_time_query_params_from_group_name,
)
from bosdyn.client.data_acquisition_store import DataAcquisitionStoreClient

from devtools.polling import wait_for
from robot_sim.daq_acquisition import is_running
from robot_sim.handle import SimulatorHandle


def data_captures(*names: str, **custom_params) -> daq.AcquisitionRequestList:
    """An AcquisitionRequestList asking each capability in ``names`` (the same
    ``custom_params``, e.g. ``duration_s=5``, for all of them when given)."""
    captures = []
    for name in names:
        capture = daq.DataCapture(name=name)
        if custom_params:
            capture.custom_params.CopyFrom(dict_param(custom_params))
        captures.append(capture)
    return daq.AcquisitionRequestList(data_captures=captures)


def dict_param(values: dict) -> custom_pb2.DictParam:
    """A DictParam of plain values: bool, int, float or str each."""
    param = custom_pb2.DictParam()
    for key, value in values.items():
        child = param.values[key]
        if isinstance(value, bool):
            child.bool_value.value = value
        elif isinstance(value, int):
            child.int_value.value = value
        elif isinstance(value, float):
            child.double_value.value = value
        else:
            child.string_value.value = str(value)
    return param


def wait_done(robot, request_id: int, timeout: float = 30.0) -> daq.GetStatusResponse:
    """Poll GetStatus until the acquisition ended; its last status (raises TimeoutError)."""
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)

    def ended():
        response = client.get_status(request_id)
        return None if is_running(response.status) else response

    return wait_for(ended, timeout, f"the end of acquisition {request_id}")


def acquire(robot, captures: daq.AcquisitionRequestList, action_name: str, group_name: str,
            metadata: dict | None = None, timeout: float = 30.0) -> daq.GetStatusResponse:
    """AcquireData as Autowalk sends it (action and group name, robot-time stamp, metadata),
    then wait for the end; returns the final GetStatusResponse."""
    client = robot.ensure_client(DataAcquisitionClient.default_service_name)
    request_id = client.acquire_data(captures, action_name, group_name, metadata=metadata)
    return wait_done(robot, request_id, timeout)


def download_group(sim: SimulatorHandle, robot, group_name: str, folder: Path
                   ) -> Dict[str, bytes]:
    """Download the group's captures with the SDK's ``download_data_REST`` (time range from
    ``make_time_query_params_from_group_name``) into ``folder``; returns the ZIP's members
    (``"<group>/<file>"`` -> bytes). Raises AssertionError when the download fails."""
    store = robot.ensure_client(DataAcquisitionStoreClient.default_service_name)
    query = make_time_query_params_from_group_name(group_name, store)
    assert query is not None, f"no capture of group {group_name!r} in the store"
    assert download_data_REST(query, sim.rest_hostname, robot.user_token, str(folder)), \
        "download_data_REST failed (see its output)"
    absolute = Path(folder).absolute()  # where download_data_REST writes
    return read_zips((absolute.parent / clean_filename(absolute.name) / "REST").glob("*.zip"))


def read_zips(paths: Iterable[Path]) -> Dict[str, bytes]:
    """All members of the ZIP files ``paths``."""
    members: Dict[str, bytes] = {}
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                members[name] = archive.read(name)
    return members


def run_plugin_tester(sim: SimulatorHandle, tester: Path, service_name: str,
                      destination: Path, cwd: Path, timeout: float = 240.0) -> str:
    """Run the Spot SDK's plugin tester (``tester``: its ``plugin_tester.py``) as the SDK
    documents it, ``--service-name NAME ROBOT`` with the robot's user credentials in the
    environment (``robot_sim exec``); returns its output. Raises AssertionError unless it
    reports every test passed without an ERROR line."""
    result = subprocess.run(
        [sys.executable, "-m", "robot_sim", "exec", "--state-dir", str(sim.state_dir),
         "--", sys.executable, str(tester), "--service-name", service_name,
         "--destination-folder", str(destination), sim.address],
        capture_output=True, text=True, timeout=timeout, cwd=cwd)
    output = result.stdout + result.stderr
    print(output)  # the tester's report, shown with -s or on failure
    assert result.returncode == 0, output
    assert f"All tests passed for plugin service {service_name}" in output, output
    assert "ERROR" not in output, output
    return output
