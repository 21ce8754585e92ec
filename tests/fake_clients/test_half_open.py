"""Half-open connections are what they claim: each reaches the server, sends the start of a
request and never its end, and stays open until the helper closes it; 800 of them fit in one
process; over TLS the server reads the partial request after a complete handshake."""

from __future__ import annotations

import selectors
import socket
import ssl
import threading

import pytest

from devtools.polling import wait_for
from fake_clients.half_open import PARTIAL_REQUEST, HalfOpenConnections
from robot_sim import certs


class Listener:
    """A one-thread server that reads what every connection sends (TLS when ``context``),
    never answers, and closes them all on ``drop_all``."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.context = context
        self.received: dict = {}
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.sock, selectors.EVENT_READ)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                if key.fileobj is self.sock:
                    conn, _ = self.sock.accept()
                    if self.context is not None:
                        conn.settimeout(10)  # handshake in this thread: a few clients only
                        conn = self.context.wrap_socket(conn, server_side=True)
                    conn.setblocking(False)
                    with self._lock:
                        self.received[conn] = b""
                    self._selector.register(conn, selectors.EVENT_READ)
                else:
                    try:
                        data = key.fileobj.recv(4096)
                    except (BlockingIOError, ssl.SSLWantReadError):
                        continue
                    with self._lock:
                        self.received[key.fileobj] += data
                    if not data:
                        self._selector.unregister(key.fileobj)

    def partials(self) -> list:
        with self._lock:
            return list(self.received.values())

    def drop_all(self) -> None:
        with self._lock:
            conns = list(self.received)
        for conn in conns:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.drop_all()
        self.sock.close()


@pytest.fixture
def listener():
    made = []

    def make(context=None) -> Listener:
        made.append(Listener(context))
        return made[-1]
    yield make
    for one in made:
        one.close()


def test_800_connections_each_hold_a_partial_request(listener):
    server = listener()
    with HalfOpenConnections("127.0.0.1", server.port, count=800) as held:
        wait_for(lambda: server.partials().count(PARTIAL_REQUEST) == 800,
                 what="800 partial requests")
        assert held.still_open() == 800
        assert not any(b"\r\n\r\n" in partial for partial in server.partials())
        server.drop_all()
        wait_for(lambda: held.still_open() == 0, what="every connection seen closed")


def test_over_tls_the_partial_request_follows_a_full_handshake(listener, tmp_path):
    _, cert, key = certs.generate()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = listener(context)
    with HalfOpenConnections("127.0.0.1", server.port, count=3, tls=True) as held:
        wait_for(lambda: server.partials() == [PARTIAL_REQUEST] * 3, what="3 partials")
        assert held.still_open() == 3


def test_a_refused_connection_is_one_line_and_closes_the_others():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    held = HalfOpenConnections("127.0.0.1", port, count=3)
    with pytest.raises(ConnectionError, match=rf"^half-open connection 1 of 3 to "
                                              rf"127.0.0.1:{port} failed: "):
        held.open()
    assert held.sockets == []
