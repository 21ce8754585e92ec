"""Ports the CORE I/O firewall lets in, and the one line said about the others."""

from __future__ import annotations

import pytest
from camera_service.cli.ports import port_advice


@pytest.mark.parametrize("port", [21000, 21230, 21442, 21444, 22000, 0])
def test_ports_that_work_on_a_core_io_get_no_warning(port):
    assert port_advice(port) is None


@pytest.mark.parametrize("port", [50051, 5000, 20999, 22001, 443])
def test_ports_outside_the_range_name_the_firewall(port):
    line = port_advice(port)
    assert line.startswith(f"port {port} is outside 21000-22000")
    assert "firewall" in line and "--port 21230" in line and "\n" not in line


def test_the_portal_port_names_the_portal():
    line = port_advice(21443)
    assert "portal" in line and "--port 21230" in line and "firewall" not in line
