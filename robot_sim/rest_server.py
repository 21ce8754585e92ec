"""The robot's HTTPS REST endpoint for Data Acquisition downloads.

``GET /v1/data-buffer/daq-data/`` with ``Authorization: Bearer <user token>`` answers the ZIP
of ``robot_sim.daq_zip`` with everything stored whose action time lies in ``from_sec``/
``from_nsec`` .. ``to_sec``/``to_nsec`` (robot time, both optional) and, when ``channel`` is
given (repeatable), on one of those channels: 200 with ``Content-Disposition: attachment;
filename="..."``, 204 when nothing matches, 401 without a valid token, 400 for a bad
parameter, 404 for any other path. The real robot serves it on its gRPC port (443); the
simulator serves it on a port of its own (``RestServer.port``).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, List, Optional
from urllib.parse import parse_qs, urlsplit

from robot_sim.capture_store import CaptureStore, StoredItem
from robot_sim.clock import timestamp_to_nsec
from robot_sim.daq_zip import build_zip

LOG = logging.getLogger("robot_sim")
DAQ_DATA_PATH = "/v1/data-buffer/daq-data/"


class BadParameter(ValueError):
    """A query parameter that is not a number."""


def _bound_nsec(query: dict, name: str) -> Optional[int]:
    """``<name>_nsec`` or ``<name>_sec`` from ``query`` as nanoseconds, None when absent."""
    try:
        if f"{name}_nsec" in query:
            return int(query[f"{name}_nsec"][0])
        if f"{name}_sec" in query:
            return int(float(query[f"{name}_sec"][0]) * 1e9)
    except ValueError:
        raise BadParameter(f"{name}_sec/{name}_nsec must be a number") from None
    return None


def select_items(store: CaptureStore, query: dict) -> List[StoredItem]:
    """The stored items a daq-data query (parsed query string) asks for."""
    low, high = _bound_nsec(query, "from"), _bound_nsec(query, "to")
    channels = set(query.get("channel", []))
    items = []
    for item in store.select():
        stamp = timestamp_to_nsec(item.data_id.action_id.timestamp)
        if (low is not None and stamp < low) or (high is not None and stamp > high):
            continue
        if channels and item.data_id.channel not in channels:
            continue
        items.append(item)
    return items


def _handler(store: CaptureStore, token_ok: Callable[[str], bool]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            LOG.debug("rest: " + format, *args)

        def _answer(self, code: int, body: bytes = b"", headers=()) -> None:
            self.send_response(code)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path.rstrip("/") != DAQ_DATA_PATH.rstrip("/"):
                return self._answer(404, b"not found\n")
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not token_ok(auth[len("Bearer "):].strip()):
                return self._answer(401, b"missing, invalid or expired user token\n")
            try:
                items = select_items(store, parse_qs(url.query))
            except BadParameter as exc:
                return self._answer(400, f"{exc}\n".encode())
            if not items:
                return self._answer(204)
            LOG.info("rest: daq-data download of %d item(s)", len(items))
            return self._answer(200, build_zip(items), [
                ("Content-Type", "application/zip"),
                ("Content-Disposition", 'attachment; filename="daq-data.zip"')])

    return Handler


class _ThreadingHTTPServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class RestServer:
    """HTTPS server of the daq-data endpoint on ``bind``:``port`` (0 = any free port)."""

    def __init__(self, store: CaptureStore, token_ok: Callable[[str], bool], bind: str,
                 cert_file: Path, key_file: Path, port: int = 0) -> None:
        server_type = _ThreadingHTTPServerV6 if ":" in bind else ThreadingHTTPServer
        self._server = server_type((bind, port), _handler(store, token_ok))
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        # handshake on the handler's thread, so a slow client cannot hold the accept loop
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="robot_sim-rest", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
