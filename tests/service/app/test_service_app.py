"""Wiring details of the app: building is pure; start binds the port and resolves the
address registered with the robot."""

from __future__ import annotations

import socket
import time

import pytest
from camera_service.app import service as app_module
from camera_service.app.service import CameraService, StartupError, detect_host_ip
from camera_service.config.model import from_mapping
from camera_service.encoding.encoder import OutputSpec
from camera_service.serving.budget import OverBudget


def test_host_ip_is_the_local_address_on_the_route_to_the_robot():
    assert detect_host_ip("127.0.0.1") == "127.0.0.1"


def _config(port):
    return from_mapping({"robot": {"hostname": "127.0.0.1", "port": 1},
                         "service": {"port": port, "bind": "127.0.0.1"},
                         "sources": [{"name": "cam", "type": "synthetic"}]})


def test_building_the_service_binds_resolves_and_connects_nothing(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("I/O while building the service")

    monkeypatch.setattr(socket, "gethostbyname", forbidden)
    monkeypatch.setattr(app_module, "make_session", forbidden)
    monkeypatch.setattr(app_module.grpc, "server", forbidden)
    service = CameraService(_config(0))
    assert service.port is None and service.registration is None and service.link is None
    assert [c.name for c in service.captures] == ["cam"]
    assert service.status("cam").generation == 0  # created, not opened


def test_auto_host_ip_and_free_port_reach_the_registration():
    service = CameraService(_config(0))
    service.start()
    try:
        endpoint = service.registration.endpoint
        assert endpoint.host == "127.0.0.1" and endpoint.port == service.port > 0
        assert endpoint.liveness_timeout == 30.0  # 3 keep-alive periods
    finally:
        service.stop()


def test_taken_port_is_a_startup_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        service = CameraService(_config(taken.getsockname()[1]))
        with pytest.raises(StartupError, match="cannot listen"):
            service.start()
        assert service.link is None  # nothing went on to talk to the robot


def test_counters_report_each_cameras_frame_hygiene():
    service = CameraService(_config(0))
    service.serve()
    try:
        deadline = time.monotonic() + 5
        while service.captures[0].frames_captured < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        hygiene = service.counters()["frame_hygiene"]["cam"]
        assert hygiene["passed"] >= 3 and hygiene["dropped"] == {}
    finally:
        service.stop()


def _raw_reserved(budget) -> bool:
    """Whether a small RAW image may be reserved now."""
    call = budget.open_call()
    try:
        call.reserve(OutputSpec("raw", "rgb", 0, 64, 48), 64, 48, passthrough=False)
        return True
    except OverBudget:
        return False
    finally:
        call.close()


def test_the_measured_gate_guards_only_a_limit_that_exists(monkeypatch):
    """No cgroup limit and none configured: the process is not limited, so its own size
    (a test runner's hundreds of MiB) refuses nothing. A limit that exists: a process past
    it is refused."""
    monkeypatch.setattr("camera_service.core.memory_limits.cgroup_memory_limit", lambda: None)
    monkeypatch.setattr(app_module, "private_resident_bytes", lambda: 1 << 40)  # 1 TiB held
    unlimited = app_module.make_budget(from_mapping({"sources": []}))
    unlimited.max_wait = 0.01
    assert _raw_reserved(unlimited)
    configured = app_module.make_budget(from_mapping({"service": {"memory_limit_mib": 512},
                                                      "sources": []}))
    configured.max_wait = 0.01
    assert not _raw_reserved(configured)
    monkeypatch.setattr("camera_service.core.memory_limits.cgroup_memory_limit",
                        lambda: 512 * 1024 * 1024)
    in_a_container = app_module.make_budget(from_mapping({"sources": []}))
    in_a_container.max_wait = 0.01
    assert not _raw_reserved(in_a_container)
