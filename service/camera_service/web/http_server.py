"""The ``http.server`` plumbing of the laptop viewer (the settings page is served by
``asgi_server``): a threading server run in the background, the loopback host check, and a
request handler base that answers JSON, static files and raw bytes with common headers."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Tuple
from urllib.parse import urlsplit

from camera_service.core.redaction import scrub
from camera_service.web.static_files import STATIC_DIR, find_static

LOGGER = logging.getLogger(__name__)

__all__ = ["STATIC_DIR", "BackgroundServer", "JsonStaticHandler", "host_allowed"]


class BackgroundServer(ThreadingHTTPServer):
    """A threading HTTP server that serves in a background thread (``start``) until
    ``stop`` (the laptop viewer's)."""

    daemon_threads = True
    thread_name = "http"
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve in a background thread until ``stop``."""
        self._thread = threading.Thread(target=self.serve_forever, name=self.thread_name,
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


def host_allowed(listen_host: str, host_header: str) -> bool:
    """False for a request to a loopback-bound viewer under a DNS name other than
    ``localhost``: a web page could otherwise rebind its own name to 127.0.0.1 and read the
    cameras from the user's browser. IP literals (and any name, when listening elsewhere)
    pass."""
    if not ipaddress.ip_address(listen_host).is_loopback:
        return True
    name = urlsplit(f"//{host_header}").hostname or ""
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class JsonStaticHandler(BaseHTTPRequestHandler):
    """Base request handler: JSON answers (URL credentials scrubbed), plain-name static files
    from ``static_dirs`` and ``common_headers`` on every answer. Subclasses route."""

    protocol_version = "HTTP/1.1"

    # Folders whose plain file names ``/static/NAME`` serves (first match wins); the settings
    # page adds its own folder in front of this one and shares the preview code.
    static_dirs: Tuple[Path, ...] = (STATIC_DIR,)

    def _send_static(self, name: str) -> None:
        found = find_static(name, self.static_dirs)
        if found is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": name})
            return
        self._send(HTTPStatus.OK, found[1], found[0])

    def _send_json(self, status: int, body: dict, headers: Dict[str, str] | None = None) -> None:
        payload = scrub(json.dumps(body)).encode()  # no URL credential reaches the page
        self._send(status, "application/json", payload, headers)

    # Headers sent with every answer (the settings page adds its security headers).
    common_headers: Dict[str, str] = {"Cache-Control": "no-store"}

    def _send(
        self, status: int, content_type: str, body: bytes, headers: Dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**self.common_headers, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        LOGGER.debug("http: " + format, *args)
