"""Issue 23's done-when for the settings page, on the real service: with 800 half-open
connections on the page (TCP connections whose TLS hello never finishes, plus a few that
finish it and send half a request), GetImage through the robot keeps answering and the
service log gains at most a few lines; once they are gone the page answers again."""

from __future__ import annotations

import statistics
import time

import pytest
from settings_stack import SERVICE, running_stack

from devtools.polling import wait_for
from fake_clients.half_open import HalfOpenConnections

pytestmark = [pytest.mark.slow]

TLS_HELLO_START = b"\x16\x03\x01\x02\x00"  # a ClientHello record header, never its body


@pytest.fixture(scope="module")
def stack():
    with running_stack("settings-flood-") as stack:
        yield stack


def test_800_half_open_connections_leave_get_image_and_the_log_alone(stack):
    robot = stack.sim.sdk_robot()
    robot.sync_with_directory()
    client = robot.ensure_client(SERVICE)
    client.get_image_from_sources(["front"], timeout=5)
    before = len(stack.log().splitlines())
    seconds = []
    with HalfOpenConnections("127.0.0.1", stack.port, 16, tls=True), \
            HalfOpenConnections("127.0.0.1", stack.port, 800, partial=TLS_HELLO_START):
        for _ in range(30):
            start = time.monotonic()
            [answer] = client.get_image_from_sources(["front"], timeout=2)
            seconds.append(time.monotonic() - start)
            assert answer.shot.image.data[:2] == b"\xff\xd8"
    added = stack.log().splitlines()[before:]
    print(f"\nGetImage through the robot with 816 half-open connections on the settings "
          f"page: median {statistics.median(seconds) * 1000:.1f} ms, max "
          f"{max(seconds) * 1000:.1f} ms over 30 calls; {len(added)} log line(s) added")
    assert len(added) <= 4, "\n".join(added)
    assert not [line for line in added if "ERROR" in line]
    wait_for(lambda: stack.request("GET", "/api/session").status == 401, timeout=30,
             what="the page answering again")
