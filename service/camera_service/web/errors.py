"""Errors a web page (the settings page, the laptop viewer) shows: each has a ``kind`` for
code, an HTTP status and a one-line ``message`` for people; none carries a secret."""

from __future__ import annotations


class WebError(Exception):
    """A failure to show on the page: ``kind`` for code, ``message`` (one line) for people."""

    kind = "error"
    http_status = 500

    def __init_subclass__(cls, kind: str = "error", http_status: int = 500, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = kind
        cls.http_status = http_status

    def __init__(self, message: str, status: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def as_json(self) -> dict:
        return {"error": self.kind, "message": self.message, "status": self.status}


class RobotUnreachable(WebError, kind="robot_unreachable", http_status=503):
    """The robot does not answer (refused, timed out, gone); HTTP 503."""


class LoginRefused(WebError, kind="login_refused", http_status=503):
    """The robot answered but refused the viewer's credentials; HTTP 503."""


class ServiceUnreachable(WebError, kind="service_unreachable", http_status=502):
    """The robot answers, the image service behind it does not; HTTP 502."""


class UnknownService(WebError, kind="unknown_service", http_status=404):
    """No image service of that name in the robot's directory; HTTP 404."""


class SourceFault(WebError, kind="source_fault", http_status=502):
    """The service answered GetImage with a non-OK status; HTTP 502."""


class BadRequest(WebError, kind="bad_request", http_status=400):
    """A malformed query string; HTTP 400."""


class Forbidden(WebError, kind="forbidden", http_status=403):
    """A request under a host name a loopback-bound page does not serve (see ``host_allowed``)."""


class SlowBody(WebError, kind="body_timeout", http_status=408):
    """A request body that did not arrive within the server's deadline; HTTP 408."""
