"""The settings page's HTTP boundary in-process (issue 23): a refused POST's body is never
read as the next request, deeply nested JSON is a 400, an oversized header or body is
refused, connections past the limit are closed at once and logged in a line or two, a
half-open client is dropped after the head deadline, and a client closing its connection
in the middle of an answer is not an error."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading

import pytest
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.http_api import MAX_BODY, SettingsServer
from camera_service.settings_page.sessions import LoginLimiter
from camera_service.settings_page.tls import ensure_certificate
from camera_service.web.asgi_server import ServerLimits
from camera_service.web.frames import JpegFrame
from test_http_api import CONFIG, FakeBackend, FakeRobotAuth, Page

from devtools.polling import wait_for
from fake_clients.half_open import HalfOpenConnections

LIMITS = ServerLimits(max_connections=24, max_per_client=16, handshake_seconds=1.0,
                      head_seconds=1.0, keep_alive_seconds=1.0, body_seconds=1.0)
TLS_HELLO_START = b"\x16\x03\x01\x02\x00"  # a ClientHello record header, never its body


class HeldFrameBackend(FakeBackend):
    """Holds each frame until ``release`` (the client can leave meanwhile); large frames."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.release = threading.Event()

    def frame(self, source, quality, resize):
        self.asked.set()
        self.release.wait(10)
        return JpegFrame(b"\xff\xd8" + bytes(4_000_000) + b"\xff\xd9", 4, 3, 0.001, None)


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    server = SettingsServer(("127.0.0.1", 0), ensure_certificate(tmp_path).server_context(),
                            HeldFrameBackend(), ConfigStore(config), FakeRobotAuth(),
                            session_seconds=60, limiter=LoginLimiter(), limits=LIMITS)
    server.start()
    try:
        yield server
    finally:
        server.backend.release.set()
        server.stop()


def tls_socket(server: SettingsServer) -> ssl.SSLSocket:
    context = ssl._create_unverified_context()
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def read_all(sock: ssl.SSLSocket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLError, OSError):
            return data
        if not chunk:
            return data
        data += chunk


def answers(server: SettingsServer) -> bool:
    try:
        return Page(server).request("GET", "/api/session")[0] == 401
    except (OSError, ssl.SSLError):
        return False


def test_refused_post_body_is_never_read_as_the_next_request(server):
    smuggled = b"GET /api/session HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b'{"a": "' + b"x" * 10 + b'"}' + smuggled
    with tls_socket(server) as sock:
        sock.sendall(b"POST /api/config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        answer = read_all(sock)  # the server closes after its one answer
    assert answer.startswith(b"HTTP/1.1 401")
    assert answer.count(b"HTTP/1.1") == 1  # the body's "request" was never answered
    assert b"connection: close" in answer.lower()


def test_deeply_nested_json_is_a_bad_request_not_a_500(server, caplog):
    caplog.set_level(logging.WARNING)
    status, _, body = Page(server).request("POST", "/api/login",
                                           raw="[" * 100_000 + "]" * 100_000)
    assert status == 400 and json.loads(body)["error"] == "bad_request"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_oversized_body_and_header_are_refused(server):
    page = Page(server)
    status, headers, _ = page.request("POST", "/api/login", raw="{}" + " " * MAX_BODY)
    assert status == 413 and headers["Connection"] == "close"
    with tls_socket(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 64_000 + b"\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 431")
    assert page.request("GET", "/")[0] == 200


def test_connections_past_the_limit_are_closed_and_logged_once(server, caplog):
    caplog.set_level(logging.DEBUG, logger="camera_service")
    held = HalfOpenConnections("127.0.0.1", server.port, 300, partial=TLS_HELLO_START)
    with held.open():
        wait_for(lambda: held.still_open() <= LIMITS.max_per_client, timeout=10,
                 what="the connections past the limit closed")
        assert server.open_connections <= LIMITS.max_per_client
        # the handshake deadline frees the slots: the page answers again
        wait_for(lambda: answers(server), timeout=15, what="the page answering again")
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert 1 <= len(lines) <= 3, [r.getMessage() for r in lines]
    assert "refused new connections" in lines[0].getMessage()


def test_half_open_request_is_dropped_after_the_head_deadline(server):
    with tls_socket(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert read_all(sock) == b""  # closed, nothing answered
    wait_for(lambda: server.open_connections == 0, timeout=5, what="the slot released")


def test_client_leaving_mid_answer_is_not_an_error(server, caplog):
    caplog.set_level(logging.DEBUG)
    page = Page(server)
    page.login()
    sock = tls_socket(server)
    sock.sendall(b"GET /api/frame?source=front HTTP/1.1\r\nHost: x\r\nCookie: "
                 + page.cookie.encode() + b"\r\n\r\n")
    assert server.backend.asked.wait(10)
    server.backend.release.set()
    assert sock.recv(10)  # the 4 MB answer is under way
    sock.close()  # no TLS close_notify: the browser tab went away
    wait_for(lambda: server.open_connections == 0, timeout=10, what="connection released")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert Page(server).request("GET", "/")[0] == 200


@pytest.mark.parametrize("sent", [b'{"username": "a"', b""])
def test_a_body_that_never_arrives_is_answered_408_and_the_slot_freed(server, sent):
    """A client declaring 100 bytes and sending fewer held its connection and a server task
    until it left (found by the HTTP fuzzer)."""
    with tls_socket(server) as sock:
        sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 100\r\n\r\n" + sent)
        answer = read_all(sock)  # the server answers, then closes
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in answer or b"connection: close" in answer
    assert b"did not arrive within" in answer
    wait_for(lambda: server.open_connections == 0, timeout=5, what="the slot released")
    assert answers(server)
