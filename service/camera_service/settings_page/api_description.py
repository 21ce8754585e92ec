"""The settings page's HTTP API described for scripts: an OpenAPI 3.1 document, served at
``GET /api/openapi.json`` (no login needed: it holds no data, only the shape of the API).

``OPERATIONS`` is the one list of what the API offers; ``openapi()`` turns it into the
document, with the request body of ``POST /api/config`` taken from the config file's own
JSON Schema (``schema.document.json_schema``), so the description cannot drift from what
the page validates. A test compares ``OPERATIONS`` with the routes the server really has.

How a script talks to it (``docs/settings-page.md`` has a complete example): ``POST
/api/login`` with the robot's username and password returns the session cookie and a CSRF
token; every other ``POST`` carries the cookie and the token in ``X-CSRF-Token``, with a
JSON body.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from camera_service.schema.document import json_schema

PUBLIC, SIGNED_IN, CHANGE = "public", "signed-in", "change"
SESSION_COOKIE = "camera_settings_session"
_JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it does, who may call it, what it takes and answers.

    ``access``: ``PUBLIC`` (no session), ``SIGNED_IN`` (the session cookie), ``CHANGE``
    (cookie, ``X-CSRF-Token`` and a JSON body; ``body`` names its schema). ``answers`` maps
    HTTP status -> meaning; ``media`` is the success answer's type."""

    method: str
    path: str
    summary: str
    access: str
    body: str = ""
    answers: Tuple[Tuple[int, str], ...] = ()
    media: str = _JSON
    query: Tuple[Tuple[str, str], ...] = ()


_SOURCE_QUERY = (("source", "the source's name"),)
OPERATIONS: Tuple[Operation, ...] = (
    Operation("GET", "/api/openapi.json", "This description.", PUBLIC),
    Operation("GET", "/api/session", "The caller's session: user, csrf token, seconds left.",
              PUBLIC, answers=((401, "not logged in"),)),
    Operation("POST", "/api/login", "Log in with a robot account (checked by the robot); "
              "sets the session cookie and returns the session.", PUBLIC, body="Login",
              answers=((401, "the robot refused the username or password"),
                       (429, "too many failed logins: wait Retry-After seconds"),
                       (503, "the robot could not be asked"))),
    Operation("POST", "/api/logout", "End the session.", CHANGE, body="Empty"),
    Operation("GET", "/api/status", "The service: robot link, each source's state, rate, "
              "size and fault.", SIGNED_IN),
    Operation("GET", "/api/cameras", "Cameras present on the computer, configured or not, "
              "with the formats they offer.", SIGNED_IN),
    Operation("GET", "/api/config", "The config file's sources as the form shows them "
              "(camera passwords masked) and the form's schema.", SIGNED_IN),
    Operation("POST", "/api/config", "Replace the source list: validated, written (the "
              "previous file kept as a backup) and applied live.", CHANGE, body="Sources",
              answers=((422, "invalid config (key, index, field, message); nothing written"),)),
    Operation("GET", "/api/frame", "A JPEG of a source, as the service serves it.", SIGNED_IN,
              media="image/jpeg", query=(*_SOURCE_QUERY, ("quality", "JPEG quality 1-100"),
                                         ("resize", "scale in (0, 1]"))),
    Operation("GET", "/api/controls", "A source's camera controls: kind, range, step, menu, "
              "default and current value.", SIGNED_IN, query=_SOURCE_QUERY),
    Operation("POST", "/api/controls", "Set controls ({source, values: {name: value}}); "
              "answers once a frame taken after the change is served.", CHANGE,
              body="ControlValues"),
    Operation("POST", "/api/controls/reset", "Every control of a source back to the "
              "camera's default.", CHANGE, body="Source"),
    Operation("POST", "/api/controls/keep", "The source's current control values written as "
              "its controls: in the config file.", CHANGE, body="Source"),
    Operation("GET", "/api/calibrate", "The calibration panel's state (views, coverage, "
              "result).", SIGNED_IN),
    Operation("GET", "/api/calibrate/frame", "The calibration view of the live frame, "
              "detections drawn.", SIGNED_IN, media="image/jpeg"),
    Operation("POST", "/api/calibrate/start", "Start calibrating a source with a board.",
              CHANGE, body="Object"),
    Operation("POST", "/api/calibrate/capture", "Keep the current view.", CHANGE,
              body="Object"),
    Operation("POST", "/api/calibrate/auto", "Keep views automatically while the board "
              "moves (on/off).", CHANGE, body="Object"),
    Operation("POST", "/api/calibrate/clear", "Forget the kept views.", CHANGE, body="Object"),
    Operation("POST", "/api/calibrate/solve", "Solve for the camera model from the kept "
              "views (runs in the background).", CHANGE, body="Object"),
    Operation("POST", "/api/calibrate/save", "Save the solved model and attach it to the "
              "source.", CHANGE, body="Object"),
)

_COMMON_ANSWERS = {400: "bad request (one-line message)",
                   404: "unknown source or route"}
_ACCESS_ANSWERS = {SIGNED_IN: {401: "not logged in or the session expired"},
                   CHANGE: {401: "not logged in or the session expired",
                            403: "missing or wrong CSRF token, a cross-site request, or a "
                                 "body that is not JSON",
                            413: "body too large"}}


def _bodies(config: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    sources = config["properties"]["sources"]
    return {
        "Empty": {"type": "object"},
        "Object": {"type": "object", "description": "the panel's parameters (see the page)"},
        "Login": {"type": "object", "required": ["username", "password"],
                  "properties": {"username": {"type": "string"},
                                 "password": {"type": "string"}}},
        "Source": {"type": "object", "required": ["source"],
                   "properties": {"source": {"type": "string"}}},
        "ControlValues": {"type": "object", "required": ["source", "values"],
                          "properties": {"source": {"type": "string"},
                                         "values": {"type": "object"}}},
        "Sources": {"type": "object", "required": ["sources"],
                    "properties": {"sources": sources}},
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"},
                                 "message": {"type": "string"}}},
    }


def _operation(op: Operation) -> Dict[str, Any]:
    answers = {200: "done"}
    answers.update(_COMMON_ANSWERS)
    answers.update(_ACCESS_ANSWERS.get(op.access, {}))
    answers.update(dict(op.answers))
    error = {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}
    described: Dict[str, Any] = {
        "summary": op.summary,
        "responses": {str(code): {"description": text,
                                  **({"content": {op.media: {}}} if code == 200 else
                                     {"content": error})}
                      for code, text in sorted(answers.items())},
        "security": [] if op.access == PUBLIC else [{"session": []}],
    }
    parameters: List[Dict[str, Any]] = [
        {"name": name, "in": "query", "required": name == "source",
         "description": text, "schema": {"type": "string"}} for name, text in op.query]
    if op.access == CHANGE:
        parameters.append({"name": "X-CSRF-Token", "in": "header", "required": True,
                           "description": "the session's csrf (GET /api/session)",
                           "schema": {"type": "string"}})
    if parameters:
        described["parameters"] = parameters
    if op.body:
        described["requestBody"] = {"required": True, "content": {_JSON: {
            "schema": {"$ref": f"#/components/schemas/{op.body}"}}}}
    return described


@functools.lru_cache(maxsize=4)
def openapi(version: str = "") -> Dict[str, Any]:
    """The OpenAPI 3.1 document of ``OPERATIONS`` (``version``: the service's); built once
    per version (callers must not change it)."""
    config = json_schema()
    schemas = dict(config["$defs"])
    schemas.update(_bodies(config))
    paths: Dict[str, Dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Camera image service settings page", "version": version or "1",
                 "description": __doc__.split("\n\n", 2)[2].strip()},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"session": {
            "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}}},
    }
    # the config schema's references point into its own $defs; here they live in components
    text = json.dumps(document).replace('"#/$defs/', '"#/components/schemas/')
    result: Dict[str, Any] = json.loads(text)
    return result
