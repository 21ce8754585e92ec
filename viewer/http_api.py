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
- ``/api/clips[?limit=N][&before=ID]``
                           ``{"clips": [{id, source, channel, action, group, action_time,
                           frames, duration_s}], "more", "next_before", "page_size"}``: the
                           clips in the robot's Data Acquisition store, newest first, at most
                           ``limit`` (default 50, up to 500); ``before=next_before`` pages on.
                           ``frames``/``duration_s`` are null until the viewer fetched the clip.
- ``/api/clips/ID/download`` the clip's ``.mkv`` as stored (``Content-Disposition`` names it).
- ``/api/clips/ID/play``   its JPEGs as ``multipart/x-mixed-replace`` paced by their
                           timestamps, ending after the last (``viewer.clip_play``).
A clip request fetches the clip into a temporary file (deleted when the answer ends): at most
``clip_slots`` at once (503 ``busy`` beyond), none over ``max_clip_bytes`` (413).
Errors are JSON ``{"error": kind, "message": one line, "status": image status}`` with
400 (bad query), 403 (DNS name other than localhost on a loopback-bound viewer),
404 (unknown route, service or clip), 413 (clip over the size limit), 502 (faulted source,
service not answering, unreadable clip) or 503 (robot unreachable, login refused, busy).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import threading
import time
from http import HTTPStatus
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple
from urllib.parse import parse_qs, quote, urlsplit

import av
from bosdyn.api import data_acquisition_pb2 as daq
from camera_service.web.errors import BadRequest, Forbidden, WebError
from camera_service.web.frames import frame_headers, parse_frame_query
from camera_service.web.http_server import STATIC_DIR as WEB_STATIC_DIR
from camera_service.web.http_server import BackgroundServer, JsonStaticHandler, host_allowed

from viewer import clip_play
from viewer.clips import MAX_PAGE_SIZE, PAGE_SIZE, filename_of
from viewer.robot_link import ViewerConnection

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CLIP_ROUTE = re.compile(r"/api/clips/([0-9]{1,19})/(download|play)")
MAX_CLIP_BYTES = 512 * 2**20  # a 60 s clip of a 1080p MJPEG camera at 30 frames/s: ~300 MiB
CLIP_SLOTS = 2
SLOT_WAIT_S = 30.0
SEND_CHUNK = 1 << 20


class ClipsBusy(WebError, kind="busy", http_status=503):
    """Every clip slot is taken for longer than ``SLOT_WAIT_S``; HTTP 503."""


class ViewerServer(BackgroundServer):
    """HTTP server bound to ``address`` serving the viewer for ``link``."""

    thread_name = "viewer-http"

    def __init__(self, address: Tuple[str, int], link: ViewerConnection,
                 max_clip_bytes: int = MAX_CLIP_BYTES, clip_slots: int = CLIP_SLOTS) -> None:
        super().__init__(address, ViewerRequestHandler)
        self.link = link
        self.max_clip_bytes = max_clip_bytes
        self.clip_slots = threading.BoundedSemaphore(clip_slots)
        self.stopping = threading.Event()  # ends clips being played
        self.clip_dir = tempfile.mkdtemp(prefix="viewer-clips-")

    @property
    def url(self) -> str:
        """The page's address (loopback when listening on every interface)."""
        host, port = self.server_address[:2]
        if host == "0.0.0.0":
            host = "127.0.0.1"
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        """Stop serving, close the socket and the robot link, remove fetched clips.
        Idempotent."""
        self.stopping.set()
        super().stop()
        self.link.close()
        shutil.rmtree(self.clip_dir, ignore_errors=True)


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
            elif url.path == "/api/clips":
                self._send_clips(parse_qs(url.query))
            elif (clip_route := CLIP_ROUTE.fullmatch(url.path)) is not None:
                clip_id, what = clip_route.groups()
                if what == "download":
                    self._send_clip_file(int(clip_id))
                else:
                    self._play_clip(int(clip_id))
            else:
                self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": url.path})
        except WebError as err:
            self._send_json(err.http_status, err.as_json())
        except ConnectionError:
            self.close_connection = True  # the page went away mid-answer (e.g. mid-play)
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

    # ----- clips ------------------------------------------------------------------------

    def _send_clips(self, query: Dict[str, list]) -> None:
        limit = _int_param(query, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
        before = _int_param(query, "before", None, 1, 2**63)
        self._send_json(HTTPStatus.OK, self.server.link.list_clips(limit, before))

    @contextlib.contextmanager
    def _fetched_clip(self, clip_id: int) -> Iterator[Tuple[str, daq.DataIdentifier]]:
        """The clip fetched into a temporary file (path, identifier), deleted on exit; at
        most ``clip_slots`` such files at once."""
        server = self.server
        if not server.clip_slots.acquire(timeout=SLOT_WAIT_S):
            raise ClipsBusy("the viewer is busy fetching other clips; try again in a moment")
        try:
            with tempfile.NamedTemporaryFile(dir=server.clip_dir, suffix=".mkv") as file:
                data_id = server.link.fetch_clip(clip_id, file, server.max_clip_bytes)
                with contextlib.suppress(WebError, av.error.FFmpegError):
                    server.link.remember_clip_summary(clip_id, clip_play.summarize(file.name))
                yield file.name, data_id
        finally:
            server.clip_slots.release()

    def _send_clip_file(self, clip_id: int) -> None:
        with self._fetched_clip(clip_id) as (path, data_id):
            name = filename_of(data_id)
            ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
            size = Path(path).stat().st_size
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "video/x-matroska")
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Disposition", f'attachment; filename="{ascii_name}"; '
                             f"filename*=UTF-8''{quote(name)}")
            for key, value in self.common_headers.items():
                self.send_header(key, value)
            self.end_headers()
            with open(path, "rb") as file:
                shutil.copyfileobj(file, self.wfile, SEND_CHUNK)

    def _play_clip(self, clip_id: int) -> None:
        with self._fetched_clip(clip_id) as (path, _data_id), clip_play.ClipFile(path) as clip:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", clip_play.CONTENT_TYPE)
            self.send_header("Connection", "close")
            for key, value in self.common_headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.close_connection = True  # the stream ends with the connection
            try:
                for jpeg in clip_play.paced(clip.jpegs(), self.server.stopping.wait):
                    self.wfile.write(clip_play.part(jpeg))
            except av.error.FFmpegError as err:  # headers are out: end the stream early
                LOGGER.warning("viewer: clip %d is damaged past its start: %s", clip_id, err)
            self.wfile.write(clip_play.END)


def _int_param(query: Dict[str, list], name: str, default: Optional[int], low: int,
               high: int) -> Optional[int]:
    """Integer query parameter ``name`` in ``low..high`` (``default`` when absent).
    Raises ``BadRequest``."""
    if name not in query:
        return default
    text = query[name][-1]
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"{name}={text!r} is not a whole number in {low}..{high}")
    return int(text)
