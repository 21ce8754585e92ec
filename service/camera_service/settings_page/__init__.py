"""The extension's own settings page: an HTTPS server inside the service (default port
21231) where a robot user logs in and sees the service's status, the cameras present, a live
preview per source, and edits the source list.

Modules, one job each:
- ``tls``: the page's certificate (generated on first start and kept, or the operator's).
- ``sessions``: login sessions (expiry, CSRF token) and the per-client failed-login limit.
- ``robot_auth``: checks a user name and password with the robot's own auth service.
- ``schema``: what the source editor offers, derived from the config validation.
- ``config_store``: validate, then write ``config.yaml`` atomically with a backup.
- ``http_api``: the page's routes, sessions, CSRF and security headers, as a Starlette
  application served by ``web.asgi_server`` (uvicorn in a thread; all connection limits).
- ``service_view``: what the page reads from and asks of the running service.
"""
