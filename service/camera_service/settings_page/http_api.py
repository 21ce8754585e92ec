"""The settings page's HTTPS server: the page, its files and a JSON API behind a login, as a
Starlette application served by uvicorn in a background thread (``web.asgi_server``: the
connection, header, timeout and concurrency limits live there, in one place).

Routes (everything under ``/api`` except ``session`` and ``login`` needs a session cookie):
- ``GET /``, ``/static/NAME``  the page; its files, and the live viewer's shared preview code.
- ``GET /api/openapi.json``    this API described for scripts (OpenAPI 3.1, no login needed;
                               ``api_description``).
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
- ``GET /api/controls?source=N`` that source's camera controls (kind, range, step, menu
                               entries, default, current value).
- ``POST /api/controls``       ``{source, values: {name: value}}``: set as a GetImage
                               request's custom parameters would be (same path); answers
                               once a frame taken after the change is served.
- ``POST /api/controls/reset`` ``{source}``: every control back to the camera's default.
- ``POST /api/controls/keep``  ``{source}``: the values not at their default written as the
                               source's ``controls:`` in the config file, and applied.
- ``/api/calibrate...``        the calibrate panel (``calibrate_routes``), when the server
                               is given a calibrator.

Every POST must carry the session's CSRF token in ``X-CSRF-Token``, a JSON body
(``Content-Type: application/json``, at most ``MAX_BODY`` bytes, read no further) and, when
the browser sends one, an ``Origin`` equal to the page's own: a cross-site form post is
refused with 403 before anything happens. A refused request with a body is answered with
``Connection: close``, so an unread body is never taken for the next request; JSON nested
deeper than Python can parse is a 400. Refusals are logged at most every
``QuietLog.interval`` seconds per kind; a client closing its connection is not logged.
Errors are ``{"error": kind, "message": one line}``. Passwords, session ids
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
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Protocol, Tuple
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from camera_service import __version__
from camera_service.core.errors import ConfigError
from camera_service.core.redaction import redact_values, scrub
from camera_service.settings_page import schema
from camera_service.settings_page.api_description import SESSION_COOKIE, openapi
from camera_service.settings_page.calibrate_routes import CalibratorLike, calibrate_routes
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.robot_auth import (
    LoginRejected,
    RobotAuthenticator,
    RobotUnavailable,
)
from camera_service.settings_page.sessions import LoginLimiter, Session, SessionStore
from camera_service.web.asgi_server import BackgroundAsgiServer, ServerLimits
from camera_service.web.errors import BadRequest, WebError
from camera_service.web.frames import JpegFrame, frame_headers, parse_frame_query
from camera_service.web.static_files import STATIC_DIR as WEB_STATIC_DIR
from camera_service.web.static_files import find_static

LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE = SESSION_COOKIE
MAX_BODY = 256 * 1024
_KEY_RE = re.compile(r"^sources\[(\d+)\](?:\.(.+))?$")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; "
                               "frame-ancestors 'none'; form-action 'none'",
}


class SettingsBackend(Protocol):
    """What the page reads from and asks of the running service."""

    @property
    def service_name(self) -> str: ...

    def status(self) -> Dict[str, Any]: ...

    def cameras(self) -> Dict[str, Any]: ...

    def frame(self, source: str, quality: int, resize: float) -> JpegFrame: ...

    def apply(self) -> Dict[str, Any]:
        """Load the config file again and apply it; returns what changed."""

    def controls(self, source: str) -> List[Dict[str, Any]]:
        """The camera controls of ``source`` with their current values and defaults."""

    def set_controls(self, source: str, values: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Set controls as a GetImage request would; returns them as they are now."""

    def reset_controls(self, source: str) -> List[Dict[str, Any]]:
        """Every control back to the camera's default; returns them as they are now."""


class NotLoggedIn(WebError, kind="not_logged_in", http_status=401):
    """No session, or it expired or ended."""


class Refused(WebError, kind="forbidden", http_status=403):
    """A state change without the CSRF token, or from another site."""


class NotFound(WebError, kind="not_found", http_status=404):
    """No such page, file or API."""


class TooLarge(WebError, kind="too_large", http_status=413):
    """A request body over ``MAX_BODY``."""


class TooManyAttempts(WebError, kind="rate_limited", http_status=429):
    """Too many failed logins from this client."""


class AuthUnavailable(WebError, kind="robot_unreachable", http_status=503):
    """The robot's auth service could not be asked."""


class SafeJSON(JSONResponse):
    """A JSON answer with URL credentials masked and known secrets scrubbed."""

    def render(self, content: Any) -> bytes:
        return scrub(json.dumps(redact_values(content))).encode()


def error_location(key: str) -> Tuple[int | None, str | None]:
    """(source index, page field) of a ``ConfigError`` key such as ``sources[1].fps``; a
    nested key keeps its path (``sources[0].mount.xyz`` -> ``mount.xyz``: the page shows it
    next to that sub-field, else next to ``mount``)."""
    match = _KEY_RE.match(key)
    if match is None:
        return None, None
    return int(match.group(1)), match.group(2)


class SettingsServer(BackgroundAsgiServer):
    """HTTPS server on ``address`` (TLS from ``context``) serving the page for ``backend``.
    Binds at construction (``OSError`` when the port is taken); ``start``/``stop``."""

    thread_name = "settings-https"

    def __init__(self, address: Tuple[str, int], context, backend: SettingsBackend,
                 store: ConfigStore, authenticator: RobotAuthenticator,
                 session_seconds: float, limiter: LoginLimiter | None = None,
                 limits: ServerLimits | None = None,
                 calibrator: CalibratorLike | None = None) -> None:
        self.backend = backend
        self.calibrator = calibrator
        self.store = store
        self.authenticator = authenticator
        self.sessions = SessionStore(session_seconds)
        self.limiter = limiter or LoginLimiter()
        self.api = SettingsApi(self)
        super().__init__(self.api.app(), address, context, limits,
                         logging.getLogger("camera_service.settings_page"))


Handler = Callable[[Request], Awaitable[Response]]


class SettingsApi:
    """The routes of the page (see the module doc) over ``server``'s parts."""

    def __init__(self, server: SettingsServer) -> None:
        self.server = server

    def app(self) -> _Guard:
        get, post = ["GET", "HEAD"], ["POST"]
        routes = [
            Route("/", self._index, methods=get),
            Route("/index.html", self._index, methods=get),
            Route("/static/{name}", self._static, methods=get),
            Route("/api/openapi.json", self._openapi, methods=get),
            Route("/api/session", self._session_route, methods=get),
            Route("/api/status", self._signed_in(self._status), methods=get),
            Route("/api/cameras", self._signed_in(self._cameras), methods=get),
            Route("/api/config", self._signed_in(self._config), methods=get),
            Route("/api/frame", self._signed_in(self._frame), methods=get),
            Route("/api/controls", self._signed_in(self._controls), methods=get),
            Route("/api/controls", self._post(self._set_controls), methods=post),
            Route("/api/controls/reset", self._post(self._reset_controls), methods=post),
            Route("/api/controls/keep", self._post(self._keep_controls), methods=post),
            Route("/api/login", self._post(self._login, needs_session=False), methods=post),
            Route("/api/logout", self._post(self._logout), methods=post),
            Route("/api/config", self._post(self._save_config), methods=post),
        ]
        if self.server.calibrator is not None:
            routes += calibrate_routes(self.server.calibrator, self._signed_in, self._post,
                                       SafeJSON)
        return _Guard(Router(routes=routes, default=_not_found), self.server)

    # -- guards --------------------------------------------------------------------------
    def session(self, request: Request) -> Session:
        session = self.server.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise NotLoggedIn("not logged in (or the session expired); log in again")
        return session

    def _signed_in(self, route: Callable[[Request, Session], Awaitable[Response]]) -> Handler:
        async def handler(request: Request) -> Response:
            return await route(request, self.session(request))
        return handler

    def _post(self, route: Callable[..., Awaitable[Response]],
              needs_session: bool = True) -> Handler:
        """A state change: same origin, JSON, bounded body, then (``needs_session``) the
        session and its CSRF token - all checked before the route runs."""
        async def handler(request: Request) -> Response:
            self._check_origin(request)
            check_json_request(request)
            if not needs_session:
                return await route(request, await read_json(request))
            session = self.session(request)  # refused before the body is read
            if not session.csrf_ok(request.headers.get("x-csrf-token")):
                self.server.quiet.note("csrf", f"settings page: refused {request.url.path} "
                                       f"from {client(request)} without a valid CSRF token")
                raise Refused("missing or wrong CSRF token; reload the page")
            return await route(request, await read_json(request), session)
        return handler

    def _check_origin(self, request: Request) -> None:
        origin = request.headers.get("origin")
        if origin is None:
            return
        if urlsplit(origin).netloc != request.headers.get("host", ""):
            self.server.quiet.note("cross-site", f"settings page: refused a cross-site "
                                   f"request from {client(request)} (Origin {origin[:100]})")
            raise Refused("cross-site request refused")

    # -- files -----------------------------------------------------------------------------
    async def _index(self, request: Request) -> Response:
        return _static_answer("index.html")

    async def _static(self, request: Request) -> Response:
        return _static_answer(request.path_params["name"])

    # -- reads -----------------------------------------------------------------------------
    async def _openapi(self, request: Request) -> Response:
        return SafeJSON(openapi(__version__))

    async def _session_route(self, request: Request) -> Response:
        return SafeJSON(self._session_json(self.session(request)))

    def _session_json(self, session: Session) -> Dict[str, Any]:
        return {"user": session.username, "csrf": session.csrf_token,
                "expires_in": round(self.server.sessions.remaining(session)),
                "service": self.server.backend.service_name}

    async def _status(self, request: Request, session: Session) -> Response:
        return SafeJSON(await run_in_threadpool(self.server.backend.status))

    async def _cameras(self, request: Request, session: Session) -> Response:
        return SafeJSON(await run_in_threadpool(self.server.backend.cameras))

    async def _config(self, request: Request, session: Session) -> Response:
        store = self.server.store
        data = await run_in_threadpool(store.read)
        sources = data.get("sources") or []
        return SafeJSON({
            "path": str(store.path),
            "backup": store.backup.exists(),
            "sources": [schema.entry_to_page(redact_values(entry)) if isinstance(entry, dict)
                        else {}
                        for entry in sources],
            "schema": schema.describe(),
        })

    async def _frame(self, request: Request, session: Session) -> Response:
        query = parse_qs(request.url.query)
        query.setdefault("service", [self.server.backend.service_name])
        _, source, quality, resize = parse_frame_query(query)
        frame = await run_in_threadpool(self.server.backend.frame, source, quality, resize)
        return Response(frame.jpeg, media_type="image/jpeg",
                        headers=frame_headers(frame, time.time()))

    async def _controls(self, request: Request, session: Session) -> Response:
        source = request.query_params.get("source", "")
        controls = await run_in_threadpool(self.server.backend.controls, source)
        return SafeJSON({"source": source, "controls": controls})

    # -- changes ---------------------------------------------------------------------------
    async def _set_controls(self, request: Request, body: Dict[str, Any],
                            session: Session) -> Response:
        source, values = _source_of(body), body.get("values")
        if not isinstance(values, dict):
            raise BadRequest("give the control values as 'values': {name: value}")
        controls = await run_in_threadpool(self.server.backend.set_controls, source, values)
        return SafeJSON({"source": source, "controls": controls})

    async def _reset_controls(self, request: Request, body: Dict[str, Any],
                              session: Session) -> Response:
        source = _source_of(body)
        controls = await run_in_threadpool(self.server.backend.reset_controls, source)
        return SafeJSON({"source": source, "controls": controls})

    async def _keep_controls(self, request: Request, body: Dict[str, Any],
                             session: Session) -> Response:
        """The source's current control values (those not at the camera's default) become
        its ``controls:`` in the config file, so the camera starts with them."""
        source = _source_of(body)
        controls = await run_in_threadpool(self.server.backend.controls, source)
        kept = {c["name"]: c["value"] for c in controls if c["value"] != c["default"]}
        store = self.server.store
        data = await run_in_threadpool(store.read)
        entries = [dict(entry) for entry in data.get("sources") or []]
        entry = next((e for e in entries if e.get("name") == source), None)
        if entry is None:
            raise BadRequest(f"{source!r} is not a source of {store.path.name}")
        if kept:
            entry["controls"] = kept
        else:
            entry.pop("controls", None)
        try:
            await run_in_threadpool(store.save_sources, entries)
        except ConfigError as err:
            raise BadRequest(f"{err.key}: {err.problem}") from None
        except OSError as err:
            raise WebError(f"cannot write {store.path}: {err.strerror or err}") from None
        LOGGER.info("settings page: user %r kept the controls of %r as its defaults",
                    session.username, source)
        applied = await run_in_threadpool(self.server.backend.apply)
        return SafeJSON({"source": source, "kept": kept, "applied": applied})

    async def _login(self, request: Request, body: Dict[str, Any]) -> Response:
        where = client(request)
        limiter = self.server.limiter
        wait = limiter.wait_seconds(where)
        if wait > 0:
            raise TooManyAttempts(f"too many failed logins; try again in {wait:.0f} s",
                                  status=str(int(wait) + 1))
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            raise BadRequest("give a user name and a password")
        try:
            await run_in_threadpool(self.server.authenticator.verify, username, password)
        except LoginRejected as err:
            limiter.failed(where)
            LOGGER.warning("settings page: login refused for user %r from %s: %s",
                           username[:64], where, err)
            raise NotLoggedIn(str(err)) from None
        except RobotUnavailable as err:
            raise AuthUnavailable(str(err)) from None
        limiter.succeeded(where)
        session = self.server.sessions.create(username)
        LOGGER.info("settings page: user %r logged in from %s", username, where)
        answer = SafeJSON(self._session_json(session))
        set_cookie(answer, session.id, int(self.server.sessions.lifetime))
        return answer

    async def _logout(self, request: Request, body: Dict[str, Any],
                      session: Session) -> Response:
        self.server.sessions.end(session.id)
        LOGGER.info("settings page: user %r logged out", session.username)
        answer = SafeJSON({"ok": True})
        set_cookie(answer, "", 0)
        return answer

    async def _save_config(self, request: Request, body: Dict[str, Any],
                           session: Session) -> Response:
        pages = body.get("sources")
        if not isinstance(pages, list):
            raise BadRequest("give the source list as 'sources'")
        store = self.server.store
        try:
            entries: List[Dict[str, Any]] = [schema.page_to_entry(values, index)
                                             for index, values in enumerate(pages)]
            await run_in_threadpool(store.save_sources, entries)
        except ConfigError as err:
            index, field = error_location(err.key)
            return SafeJSON({"error": "invalid", "key": err.key, "index": index,
                             "field": field, "message": err.problem},
                            HTTPStatus.UNPROCESSABLE_ENTITY)
        except OSError as err:
            raise WebError(f"cannot write {store.path}: {err.strerror or err}") from None
        LOGGER.info("settings page: user %r saved %d source(s) to %s", session.username,
                    len(entries), store.path)
        applied = await run_in_threadpool(self.server.backend.apply)
        return SafeJSON({"ok": True, "applied": applied})


def _static_answer(name: str) -> Response:
    found = find_static(name, (STATIC_DIR, WEB_STATIC_DIR))
    if found is None:
        raise NotFound(name)
    return Response(found[0], media_type=found[1])


async def _not_found(scope, receive, send) -> None:
    raise NotFound(scope["path"][:200])


def _source_of(body: Dict[str, Any]) -> str:
    source = body.get("source")
    if not isinstance(source, str) or not source:
        raise BadRequest("give the source's name as 'source'")
    return source


def client(request: Request) -> str:
    return request.client.host if request.client else "?"


def set_cookie(answer: Response, value: str, max_age: int) -> None:
    """The session cookie: Secure, HttpOnly, SameSite=Strict, the whole site."""
    answer.headers.append("Set-Cookie", f"{COOKIE}={value}; Path=/; Max-Age={max_age}; "
                                        "Secure; HttpOnly; SameSite=Strict")


def check_json_request(request: Request) -> None:
    """Refuses (``Refused``) a state change that is not a JSON request (a form post), and
    (``TooLarge``, ``BadRequest``) a declared body over ``MAX_BODY`` - before reading it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused("state changes must be JSON requests from the settings page")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("bad Content-Length")
        if int(declared) > MAX_BODY:
            raise TooLarge(f"request body over {MAX_BODY} bytes")


async def read_json(request: Request) -> Dict[str, Any]:
    """The request's JSON object body, read no further than ``MAX_BODY`` bytes (a chunked
    body is counted as it comes). Raises ``TooLarge`` or ``BadRequest``."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise TooLarge(f"request body over {MAX_BODY} bytes")
    try:
        body = json.loads(bytes(data) or b"{}")
    except (ValueError, RecursionError):
        raise BadRequest("the request body is not JSON (or nested too deeply)") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


class _Guard:
    """The outermost ASGI layer: the security headers on every answer, a ``WebError`` as
    its JSON answer, any other failure as one log line and a 500 (never a traceback), a
    refused request with a body answered with ``Connection: close``."""

    def __init__(self, app: Router, server: SettingsServer) -> None:
        self._app = app
        self._server = server
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    @property
    def routes(self) -> List[Route]:
        """The routes behind the guard (what ``api_description`` must describe)."""
        return [route for route in self._app.routes if isinstance(route, Route)]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in self._headers if header[0] not in names]
            await send(message)

        try:
            await self._app(scope, receive, send_with_headers)
        except Exception as err:
            if started:  # the answer is under way: the client gets a cut answer
                LOGGER.debug("settings page: %s failed while answering", scope["path"],
                             exc_info=True)
                return
            answer = self._error_answer(scope, err)
            await answer(scope, receive, send_with_headers)

    def _error_answer(self, scope, err: Exception) -> Response:
        if isinstance(err, WebError):
            body = {"error": err.kind, "message": err.message}
            status = err.http_status
            headers = {"Retry-After": err.status} if isinstance(err, TooManyAttempts) else {}
        else:
            self._server.quiet.note(f"internal:{type(err).__name__}",
                                    f"settings page: {scope['path'][:100]} failed: "
                                    f"{type(err).__name__}", logging.ERROR)
            body = {"error": "internal", "message": f"internal error ({type(err).__name__}); "
                    "see the service log"}
            status, headers = HTTPStatus.INTERNAL_SERVER_ERROR, {}
        if scope["method"] not in ("GET", "HEAD"):
            headers["Connection"] = "close"  # its body may be unread: never the next request
        return SafeJSON(body, status, headers)
