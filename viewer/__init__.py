"""Live viewer: a local web page that logs in to a robot, lists every image service's sources
and shows the chosen ones live by polling ``GetImage`` for JPEG through the robot, like the
tablet does.

Modules, one job each:
- ``login``: how the viewer authenticates (username/password or payload credentials).
- ``robot_link``: the logged-in robot connection, image clients, fault messages, reconnect.
- ``http_api``: the local HTTP server (page, static files, JSON API, JPEG frames).
- ``__main__``: the command line, ``python -m viewer --hostname ADDR``.
"""

from __future__ import annotations
