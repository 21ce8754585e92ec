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

import logging
import time
from http import HTTPStatus
from pathlib import Path
from typing import Dict, Tuple
from urllib.parse import parse_qs, urlsplit

from camera_service.web.errors import Forbidden, WebError
from camera_service.web.frames import frame_headers, parse_frame_query
from camera_service.web.http_server import STATIC_DIR as WEB_STATIC_DIR
from camera_service.web.http_server import BackgroundServer, JsonStaticHandler, host_allowed

from viewer.robot_link import ViewerConnection

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


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


class ViewerRequestHandler(JsonStaticHandler):
    """Routes one request; see the module doc."""

    server: ViewerServer
    server_version = "camera-viewer"
    static_dirs = (STATIC_DIR, WEB_STATIC_DIR)

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
        except WebError as err:
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
