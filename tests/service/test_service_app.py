"""Wiring details of the app: the address registered with the robot, the bound port."""

from __future__ import annotations

import socket

import pytest
from camera_service.app import CameraService, StartupError, detect_host_ip
from camera_service.config import from_mapping


def test_host_ip_is_the_local_address_on_the_route_to_the_robot():
    assert detect_host_ip("127.0.0.1") == "127.0.0.1"


def _config(port):
    return from_mapping({"robot": {"hostname": "127.0.0.1", "port": 1},
                         "service": {"port": port, "bind": "127.0.0.1"},
                         "sources": [{"name": "cam", "type": "synthetic"}]})


def test_auto_host_ip_and_free_port_reach_the_registration():
    service = CameraService(_config(0))
    try:
        endpoint = service.registration.endpoint
        assert endpoint.host == "127.0.0.1" and endpoint.port == service.port > 0
        assert endpoint.liveness_timeout == 30.0  # 3 keep-alive periods
    finally:
        service.server.stop(0)


def test_taken_port_is_a_startup_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(StartupError, match="cannot listen"):
            CameraService(_config(taken.getsockname()[1]))
