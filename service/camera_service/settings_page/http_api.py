"""The settings page's HTTPS server: the page, its files and a JSON API behind a login.

Routes (everything under ``/api`` except ``session`` and ``login`` needs a session cookie):
- ``GET /``, ``/static/NAME``  the page; its files, and the live viewer's shared preview code.
- ``GET /api/session``         ``{user, csrf, expires_in}`` of the caller's session, else 401.
- ``POST /api/login``          ``{username, password}``, checked by the robot's auth service;
                               sets the session cookie (Secure, HttpOnly, SameSite=Strict).
                               401 refused, 429 too many failures from this client (with
                               ``Retry-After``), 503 the robot could not be asked.
- ``POST /api/logout``         ends the session.
- ``GET /api/status``          the service's status (``SettingsBackend.status``).
- ``GET /api/cameras``         the cameras present, configured or not.
- ``GET /api/config``          the file's source list as form values, and the editor schema.
- ``POST /api/config``         ``{sources: [...]}``: validated, written, applied; 422
                               ``{error: "invalid", key, index, field, message}`` when the
                               config is invalid (nothing is written).
- ``GET /api/frame?source=N``  a JPEG of that source, served by the service in-process
                               (the same query and headers as the viewer's ``/api/frame``).

Every POST must carry the session's CSRF token in ``X-CSRF-Token``, a JSON body
(``Content-Type: application/json``, at most ``MAX_BODY`` bytes) and, when the browser sends
one, an ``Origin`` equal to the page's own: a cross-site form post is refused with 403 before
anything happens. Errors are ``{"error": kind, "message": one line}``. Passwords, session ids
and CSRF tokens are never logged. Every JSON answer (config, status, cameras, errors) goes
through ``redaction.redact_values``: a camera URL reaches the page as
``scheme://***@host/path``, and saving it back keeps the stored password
(``masked_urls``).
"""

from __future__ import annotations

import json
import logging
import re
import time
from http import HTTPStatus
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Dict, List, Protocol, Tuple
from urllib.parse import parse_qs, urlsplit

from camera_service.core.errors import ConfigError
from camera_service.core.redaction import redact_values
from camera_service.settings_page import schema
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.robot_auth import (
    LoginRejected,
    RobotAuthenticator,
    RobotUnavailable,
)
from camera_service.settings_page.sessions import LoginLimiter, Session, SessionStore
from camera_service.web.errors import BadRequest, WebError
from camera_service.web.frames import JpegFrame, frame_headers, parse_frame_query
from camera_service.web.http_server import STATIC_DIR as WEB_STATIC_DIR
from camera_service.web.http_server import BackgroundServer, JsonStaticHandler

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE = "camera_settings_session"
MAX_BODY = 256 * 1024
_KEY_RE = re.compile(r"^sources\[(\d+)\](?:\.([A-Za-z0-9_]+))?")


class SettingsBackend(Protocol):
    """What the page reads from and asks of the running service."""

    service_name: str

    def status(self) -> Dict[str, Any]: ...

    def cameras(self) -> Dict[str, Any]: ...

    def frame(self, source: str, quality: int, resize: float) -> JpegFrame: ...

    def apply(self) -> Dict[str, Any]:
        """Load the config file again and apply it; returns what changed."""


class NotLoggedIn(WebError, kind="not_logged_in", http_status=401):
    """No session, or it expired or ended."""


class Refused(WebError, kind="forbidden", http_status=403):
    """A state change without the CSRF token, or from another site."""


class TooManyAttempts(WebError, kind="rate_limited", http_status=429):
    """Too many failed logins from this client."""


class AuthUnavailable(WebError, kind="robot_unreachable", http_status=503):
    """The robot's auth service could not be asked."""


class SettingsServer(BackgroundServer):
    """HTTPS server on ``address`` (TLS from ``context``) serving the page for ``backend``."""

    thread_name = "settings-https"

    def __init__(self, address: Tuple[str, int], context, backend: SettingsBackend,
                 store: ConfigStore, authenticator: RobotAuthenticator,
                 session_seconds: float, limiter: LoginLimiter | None = None) -> None:
        super().__init__(address, SettingsRequestHandler)
        # The TLS handshake happens in the request's thread, so a slow client cannot hold
        # up the accept loop.
        self.socket = context.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)
        self.backend = backend
        self.store = store
        self.authenticator = authenticator
        self.sessions = SessionStore(session_seconds)
        self.limiter = limiter or LoginLimiter()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request, client_address) -> None:
        """A client that fails the TLS handshake (plain http://, a scanner) or drops the
        connection is one debug line, not a traceback in the service log."""
        LOGGER.debug("settings page: connection from %s failed", client_address[0],
                     exc_info=True)


def error_location(key: str) -> Tuple[int | None, str | None]:
    """(source index, page field) of a ``ConfigError`` key such as ``sources[1].fps``; a key
    without a field of its own (``sources[1].controls.gain``) belongs to the ``more`` box."""
    match = _KEY_RE.match(key)
    if match is None:
        return None, None
    index, name = int(match.group(1)), match.group(2)
    if name is None:
        return index, None
    return index, name if name in schema.fields() or name == schema.MORE else schema.MORE


class SettingsRequestHandler(JsonStaticHandler):
    """Routes one request; see the module doc."""

    server: SettingsServer
    server_version = "camera-settings"
    timeout = 30  # seconds a client may stay silent (TLS handshake included)
    static_dirs = (STATIC_DIR, WEB_STATIC_DIR)
    common_headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; "
                                   "frame-ancestors 'none'; form-action 'none'",
    }

    # -- dispatch ------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, route) -> None:
        url = urlsplit(self.path)
        try:
            route(url)
        except WebError as err:
            headers = {"Retry-After": err.status} if isinstance(err, TooManyAttempts) else None
            self._send_json(err.http_status, {"error": err.kind, "message": err.message},
                            headers)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as err:  # one bad request must not take the server down
            LOGGER.error("settings page: %s failed: %s", url.path, type(err).__name__)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                            {"error": "internal", "message": f"internal error "
                             f"({type(err).__name__}); see the service log"})

    def _get(self, url) -> None:
        path = url.path
        if path in ("/", "/index.html"):
            self._send_static("index.html")
        elif path.startswith("/static/"):
            self._send_static(path[len("/static/"):])
        elif path == "/api/session":
            self._send_json(HTTPStatus.OK, self._session_json(self._session()))
        elif path == "/api/status":
            self._session()
            self._send_json(HTTPStatus.OK, self.server.backend.status())
        elif path == "/api/cameras":
            self._session()
            self._send_json(HTTPStatus.OK, self.server.backend.cameras())
        elif path == "/api/config":
            self._session()
            self._send_config()
        elif path == "/api/frame":
            self._session()
            self._send_frame(parse_qs(url.query))
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": path})

    def _post(self, url) -> None:
        path = url.path
        self._check_origin()
        body = self._json_body()
        if path == "/api/login":
            self._login(body)
            return
        session = self._session()
        if not session.csrf_ok(self.headers.get("X-CSRF-Token")):
            LOGGER.warning("settings page: refused %s from %s without a valid CSRF token",
                           path, self._client())
            raise Refused("missing or wrong CSRF token; reload the page")
        if path == "/api/logout":
            self.server.sessions.end(session.id)
            LOGGER.info("settings page: user %r logged out", session.username)
            self._send_json(HTTPStatus.OK, {"ok": True},
                            {"Set-Cookie": self._cookie("", max_age=0)})
        elif path == "/api/config":
            self._save_config(body, session)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": path})

    # -- security ------------------------------------------------------------------------
    def _client(self) -> str:
        return self.client_address[0]

    def _session(self) -> Session:
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except Exception:
            cookie = SimpleCookie()
        morsel = cookie.get(COOKIE)
        session = self.server.sessions.get(morsel.value if morsel else None)
        if session is None:
            raise NotLoggedIn("not logged in (or the session expired); log in again")
        return session

    def _session_json(self, session: Session) -> Dict[str, Any]:
        return {"user": session.username, "csrf": session.csrf_token,
                "expires_in": round(self.server.sessions.remaining(session)),
                "service": self.server.backend.service_name}

    def _cookie(self, value: str, max_age: int) -> str:
        return (f"{COOKIE}={value}; Path=/; Max-Age={max_age}; Secure; HttpOnly; "
                "SameSite=Strict")

    def _check_origin(self) -> None:
        origin = self.headers.get("Origin")
        if origin is None:
            return
        if urlsplit(origin).netloc != self.headers.get("Host", ""):
            LOGGER.warning("settings page: refused a cross-site request from %s (Origin %s)",
                           self._client(), origin[:100])
            raise Refused("cross-site request refused")

    def _json_body(self) -> Dict[str, Any]:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise Refused("state changes must be JSON requests from the settings page")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise BadRequest("bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise BadRequest(f"request body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise BadRequest("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body

    # -- login -----------------------------------------------------------------------------
    def _login(self, body: Dict[str, Any]) -> None:
        client = self._client()
        limiter = self.server.limiter
        wait = limiter.wait_seconds(client)
        if wait > 0:
            raise TooManyAttempts(f"too many failed logins; try again in {wait:.0f} s",
                                  status=str(int(wait) + 1))
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise BadRequest("give a user name and a password")
        try:
            self.server.authenticator.verify(username, password)
        except LoginRejected as err:
            limiter.failed(client)
            LOGGER.warning("settings page: login refused for user %r from %s: %s",
                           username[:64], client, err)
            raise NotLoggedIn(str(err)) from None
        except RobotUnavailable as err:
            raise AuthUnavailable(str(err)) from None
        limiter.succeeded(client)
        session = self.server.sessions.create(username)
        LOGGER.info("settings page: user %r logged in from %s", username, client)
        self._send_json(HTTPStatus.OK, self._session_json(session), {
            "Set-Cookie": self._cookie(session.id, int(self.server.sessions.lifetime))})

    # -- config ----------------------------------------------------------------------------
    def _send_config(self) -> None:
        store = self.server.store
        data = store.read()
        sources = data.get("sources") or []
        self._send_json(HTTPStatus.OK, {
            "path": str(store.path),
            "backup": store.backup.exists(),
            "sources": [schema.entry_to_page(redact_values(entry)) if isinstance(entry, dict)
                        else {}
                        for entry in sources],
            "schema": schema.describe(),
        })

    def _save_config(self, body: Dict[str, Any], session: Session) -> None:
        pages = body.get("sources")
        if not isinstance(pages, list):
            raise BadRequest("give the source list as 'sources'")
        try:
            entries: List[Dict[str, Any]] = [schema.page_to_entry(values, index)
                                             for index, values in enumerate(pages)]
            self.server.store.save_sources(entries)
        except ConfigError as err:
            index, field = error_location(err.key)
            self._send_json(HTTPStatus.UNPROCESSABLE_ENTITY, {
                "error": "invalid", "key": err.key, "index": index, "field": field,
                "message": err.problem})
            return
        except OSError as err:
            raise WebError(f"cannot write {self.server.store.path}: "
                              f"{err.strerror or err}") from None
        LOGGER.info("settings page: user %r saved %d source(s) to %s", session.username,
                    len(entries), self.server.store.path)
        self._send_json(HTTPStatus.OK, {"ok": True, "applied": self.server.backend.apply()})

    def _send_frame(self, query: Dict[str, list]) -> None:
        query.setdefault("service", [self.server.backend.service_name])
        _, source, quality, resize = parse_frame_query(query)
        frame = self.server.backend.frame(source, quality, resize)
        self._send(HTTPStatus.OK, "image/jpeg", frame.jpeg, frame_headers(frame, time.time()))

    def _send_json(self, status: int, body: dict, headers: Dict[str, str] | None = None) -> None:
        """Every JSON answer with URL credentials masked and known secrets scrubbed."""
        super()._send_json(status, redact_values(body), headers)

    def log_message(self, format: str, *args) -> None:
        LOGGER.debug("settings http: " + format, *args)
