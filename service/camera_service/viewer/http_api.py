"""The viewer's local HTTP server: the page, its static files and a small JSON/JPEG API.

Routes (all GET):
- ``/``                    the page (``static/index.html``); ``/static/NAME`` its files.
- ``/api/status``          ``ViewerConnection.status()``: robot, login, connected, error, message.
- ``/api/sources``         ``{"services": [{name, authority, error, sources: [{name, cols,
                           rows, formats, pixel_formats}]}]}`` for every image service in
                           the directory.
- ``/api/frame?service=S&source=N[&quality=1..100][&resize=(0,1]]``
                           the JPEG, with headers ``X-Frame-Cols``/``X-Frame-Rows``,
                           ``X-Rpc-Ms`` (GetImage round trip through the robot),
                           ``X-Image-Age-Ms`` and ``X-Acquisition-Time`` (local epoch
                           seconds; both absent while time sync is not established); for a
                           16-bit source ``X-Value-Range`` (``low..high``: the raw values
                           the view shows black..white) and, for depth, ``X-Depth-Scale``.
Errors are JSON ``{"error": kind, "message": one line, "status": image status}`` with
400 (bad query), 403 (DNS name other than localhost on a loopback-bound viewer),
404 (unknown route or service), 502 (faulted source, service not answering) or 503 (robot
unreachable, login refused).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Tuple
from urllib.parse import parse_qs, urlsplit

from camera_service.redaction import scrub
from camera_service.viewer.robot_link import JpegFrame, ViewerConnection, ViewerError

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_QUALITY = 75


class BadRequest(ViewerError, kind="bad_request", http_status=400):
    """A malformed query string; HTTP 400."""


class Forbidden(ViewerError, kind="forbidden", http_status=403):
    """A request under a host name the viewer does not serve (see ``host_allowed``)."""


class BackgroundServer(ThreadingHTTPServer):
    """A threading HTTP server that serves in a background thread (``start``) until
    ``stop``; shared by the viewer and the extension's settings page."""

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


class ViewerServer(BackgroundServer):
    """HTTP server bound to ``address`` serving the viewer for ``link``."""

    thread_name = "viewer-http"

    def __init__(self, address: Tuple[str, int], link: ViewerConnection) -> None:
        super().__init__(address, ViewerRequestHandler)
        self.link = link

    @property
    def url(self) -> str:
        """The page's address (loopback when listening on every interface)."""
        host, port = self.server_address[:2]
        if host == "0.0.0.0":
            host = "127.0.0.1"
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        """Stop serving, close the socket and the robot link. Idempotent."""
        super().stop()
        self.link.close()


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


def parse_frame_query(query: Dict[str, list]) -> Tuple[str, str, int, float]:
    """(service, source, quality, resize) from a parsed query string. Raises ``BadRequest``."""

    def single(key: str, default: str | None = None) -> str:
        values = query.get(key)
        if not values or not values[0]:
            if default is None:
                raise BadRequest(f"missing query parameter {key!r}")
            return default
        return values[0]

    service, source = single("service"), single("source")
    try:
        quality = int(single("quality", str(DEFAULT_QUALITY)))
        resize = float(single("resize", "1"))
    except ValueError:
        raise BadRequest("quality must be an integer and resize a number") from None
    if not 1 <= quality <= 100:
        raise BadRequest(f"quality {quality} is outside 1..100")
    if not 0 < resize <= 1:
        raise BadRequest(f"resize {resize} is outside (0, 1]")
    return service, source, quality, resize


def frame_headers(frame: JpegFrame, now: float) -> Dict[str, str]:
    """The informational headers sent with a frame (see module doc)."""
    headers = {
        "X-Frame-Cols": str(frame.cols),
        "X-Frame-Rows": str(frame.rows),
        "X-Rpc-Ms": f"{frame.rpc_seconds * 1000:.1f}",
    }
    if frame.acquisition_time is not None:
        headers["X-Acquisition-Time"] = f"{frame.acquisition_time:.6f}"
        headers["X-Image-Age-Ms"] = f"{(now - frame.acquisition_time) * 1000:.1f}"
    if frame.value_range is not None:
        headers["X-Value-Range"] = f"{frame.value_range[0]}..{frame.value_range[1]}"
        if frame.depth_scale > 0:
            headers["X-Depth-Scale"] = f"{frame.depth_scale:g}"
    return headers


class ViewerRequestHandler(BaseHTTPRequestHandler):
    """Routes one request; see the module doc."""

    server: ViewerServer
    protocol_version = "HTTP/1.1"
    server_version = "camera-viewer"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if not host_allowed(self.server.server_address[0], self.headers.get("Host", "")):
                raise Forbidden("this viewer only answers to http://127.0.0.1 or "
                                "http://localhost on a loopback address")
            if url.path in ("/", "/index.html"):
                self._send_static("index.html")
            elif url.path.startswith("/static/"):
                self._send_static(url.path[len("/static/") :])
            elif url.path == "/api/status":
                self._send_json(HTTPStatus.OK, self.server.link.status())
            elif url.path == "/api/sources":
                self._send_sources()
            elif url.path == "/api/frame":
                self._send_frame(parse_qs(url.query))
            else:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": url.path})
        except ViewerError as err:
            self._send_json(err.http_status, err.as_json())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away mid-answer
        except Exception as err:  # one bad request must not take the server down
            LOGGER.error("viewer: %s failed: %s: %s", url.path, type(err).__name__, err)
            self._send_json(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": "internal", "message": f"{type(err).__name__}: {err}"},
            )

    def _send_sources(self) -> None:
        services = self.server.link.list_sources()
        body = {
            "services": [
                {
                    "name": service.name,
                    "authority": service.authority,
                    "error": service.error,
                    "sources": [source.__dict__ for source in service.sources],
                }
                for service in services
            ]
        }
        self._send_json(HTTPStatus.OK, body)

    def _send_frame(self, query: Dict[str, list]) -> None:
        service, source, quality, resize = parse_frame_query(query)
        frame = self.server.link.get_jpeg(service, source, quality, resize)
        headers = frame_headers(frame, time.time())
        self._send(HTTPStatus.OK, "image/jpeg", frame.jpeg, headers)

    # Folders whose plain file names ``/static/NAME`` serves (first match wins); the settings
    # page adds its own folder in front of this one and shares the preview code.
    static_dirs: Tuple[Path, ...] = (STATIC_DIR,)

    def _send_static(self, name: str) -> None:
        # Only plain file names of the static folders: no paths, no traversal.
        available: Dict[str, Path] = {}
        for folder in reversed(self.static_dirs):
            available.update({path.name: path for path in folder.iterdir() if path.is_file()})
        path = available.get(name)
        if path is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": name})
            return
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or name.endswith(".js"):
            content_type += "; charset=utf-8"
        self._send(HTTPStatus.OK, content_type, path.read_bytes())

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
        LOGGER.debug("viewer http: " + format, *args)
