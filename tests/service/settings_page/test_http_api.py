"""The settings page's HTTPS API in-process, with a stand-in for the robot's auth and for
the service: login refused/accepted, cookie attributes, the failed-login limit (the robot is
not asked while a client is locked out), CSRF and cross-site refusals, invalid configs
written nowhere, logout and expiry, no password in the log."""

from __future__ import annotations

import http.client
import json
import logging
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from camera_service.settings_page.config_store import ConfigStore
from camera_service.settings_page.http_api import SettingsServer
from camera_service.settings_page.robot_auth import LoginRejected
from camera_service.settings_page.sessions import LoginLimiter
from camera_service.settings_page.tls import ensure_certificate
from camera_service.web.frames import JpegFrame

PASSWORD = "correct horse battery"
CONFIG = "sources:\n  - name: front\n    type: synthetic\n"


class FakeRobotAuth:
    def __init__(self) -> None:
        self.calls = 0

    def verify(self, username: str, password: str) -> None:
        self.calls += 1
        if (username, password) != ("admin", PASSWORD):
            raise LoginRejected("the robot rejected the username or password")


class FakeBackend:
    service_name = "camera-image-service"

    def __init__(self) -> None:
        self.applied = 0
        self.extra_status = {}

    def status(self):
        return {"robot": {"registered": True}, "sources": [], **self.extra_status}

    def cameras(self):
        return {"present": [], "controls": {}, "dev_root": "/dev"}

    def frame(self, source, quality, resize):
        return JpegFrame(b"\xff\xd8fake\xff\xd9", 4, 3, 0.001, None)

    def apply(self):
        self.applied += 1
        return {"kept": [], "reopened": [], "added": ["front"], "removed": [],
                "republished": True, "restart_needed": []}


class Page:
    """Client of one server: keeps the cookie like a browser would."""

    def __init__(self, server: SettingsServer) -> None:
        self.server = server
        self.cookie = ""
        self.csrf = ""

    def request(self, method, path, body=None, headers=None, raw=None):
        context = ssl._create_unverified_context()
        connection = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                                 context=context, timeout=10)
        sent = {"Content-Type": "application/json"}
        if self.cookie:
            sent["Cookie"] = self.cookie
        sent.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        connection.request(method, path, body=data, headers=sent)
        answer = connection.getresponse()
        content = answer.read()
        connection.close()
        return answer.status, answer.headers, content  # names case-insensitive

    def login(self, password=PASSWORD):
        status, headers, body = self.request("POST", "/api/login",
                                             {"username": "admin", "password": password})
        if status == 200:
            self.cookie = headers["Set-Cookie"].split(";")[0]
            self.csrf = json.loads(body)["csrf"]
        return status, headers, body


@pytest.fixture
def parts(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    auth, backend = FakeRobotAuth(), FakeBackend()
    server = SettingsServer(("127.0.0.1", 0), ensure_certificate(tmp_path).server_context(),
                            backend, ConfigStore(config), auth, session_seconds=2,
                            limiter=LoginLimiter(allowed=3, lockout=60))
    server.start()
    try:
        yield server, auth, backend, config
    finally:
        server.stop()


def test_login_refused_then_accepted_with_strict_cookie(parts, caplog):
    server = parts[0]
    page = Page(server)
    caplog.set_level(logging.DEBUG)
    status, _, body = page.login("wrong")
    assert status == 401 and b"rejected" in body
    assert page.request("GET", "/api/status")[0] == 401
    status, headers, body = page.login()
    assert status == 200
    cookie = headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    assert json.loads(body)["user"] == "admin"
    assert page.request("GET", "/api/status")[0] == 200
    assert PASSWORD not in caplog.text and "wrong" not in caplog.text
    assert page.csrf not in caplog.text and page.cookie.split("=")[1] not in caplog.text


def test_plain_http_is_refused_quietly(parts, capsys):
    import socket

    server = parts[0]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        plain.recv(100)  # the TLS layer answers with an alert or closes
    time.sleep(0.2)
    assert "Traceback" not in capsys.readouterr().err
    assert Page(server).request("GET", "/")[0] == 200  # still serving


def test_security_headers(parts):
    server = parts[0]
    _, headers, _ = Page(server).request("GET", "/")
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_failed_logins_lock_the_client_out_without_asking_the_robot(parts):
    server, auth, _, _ = parts
    page = Page(server)
    for _ in range(3):
        assert page.login("guess")[0] == 401
    asked = auth.calls
    status, headers, _ = page.login()  # even the right password waits
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert auth.calls == asked


def test_state_changes_need_the_csrf_token_and_the_same_origin(parts):
    server, _, backend, config = parts
    page = Page(server)
    page.login()
    entries = {"sources": [{"name": "front", "type": "synthetic", "fps": "5"}]}
    assert page.request("POST", "/api/config", entries)[0] == 403
    assert page.request("POST", "/api/config", entries, {"X-CSRF-Token": "nope"})[0] == 403
    cross = {"X-CSRF-Token": page.csrf, "Origin": "https://evil.example"}
    assert page.request("POST", "/api/config", entries, cross)[0] == 403
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": page.csrf}
    assert page.request("POST", "/api/config", headers=form, raw="sources=x")[0] == 403
    assert config.read_text() == CONFIG and backend.applied == 0
    status, _, body = page.request("POST", "/api/config", entries, {"X-CSRF-Token": page.csrf})
    assert status == 200 and json.loads(body)["applied"]["republished"]
    assert backend.applied == 1 and "fps: 5" in config.read_text()


def test_invalid_value_is_located_and_nothing_written(parts):
    server, _, backend, config = parts
    page = Page(server)
    page.login()
    bad = {"sources": [{"name": "front", "type": "synthetic", "width": "8"}]}
    status, _, body = page.request("POST", "/api/config", bad, {"X-CSRF-Token": page.csrf})
    answer = json.loads(body)
    assert status == 422
    assert (answer["key"], answer["index"], answer["field"]) == ("sources[0].width", 0, "width")
    assert "between 16 and 8192" in answer["message"]
    assert config.read_text() == CONFIG and backend.applied == 0


def test_logout_and_expiry_end_the_session(parts):
    server = parts[0]
    page = Page(server)
    page.login()
    assert page.request("POST", "/api/logout", {}, {"X-CSRF-Token": page.csrf})[0] == 200
    assert page.request("GET", "/api/config")[0] == 401
    page.login()
    assert page.request("GET", "/api/frame?source=front")[0] == 200
    time.sleep(2.1)
    status, _, body = page.request("GET", "/api/frame?source=front")
    assert status == 401 and b"expired" in body


URL_SECRET = "p#ss/w?rd@:7 z"  # every character a URL parser misreads, and a space
IP_URL = f"http://camuser:{URL_SECRET}@10.0.0.7:8080/video.mjpg?res=1"


IP_CONFIG = yaml.safe_dump({"sources": [
    {"name": "front", "type": "synthetic"},
    {"name": "ip", "type": "url", "url": IP_URL, "timeout": 2}]})


def _with_ip_camera(config) -> None:
    config.write_text(IP_CONFIG)


def _save_edited(server, config, edit):
    """Log in on a file with the IP camera, save the page's list with ``edit(fields)``
    applied to the camera's fields; (page, status, body) of the save."""
    _with_ip_camera(config)
    page = Page(server)
    page.login()
    sources = json.loads(page.request("GET", "/api/config")[2])["sources"]
    edit(sources[1])
    status, _, body = page.request("POST", "/api/config", {"sources": sources},
                                   {"X-CSRF-Token": page.csrf})
    return page, status, body


def test_config_reaches_the_page_with_url_passwords_masked(parts):
    server, _, _, config = parts
    _with_ip_camera(config)
    page = Page(server)
    page.login()
    status, _, body = page.request("GET", "/api/config")
    assert status == 200
    assert URL_SECRET not in body.decode() and "camuser" not in body.decode()
    for encoded in (json.dumps(URL_SECRET), "p%23ss"):
        assert encoded.strip('"') not in body.decode()
    shown = json.loads(body)["sources"][1]
    assert shown["url"] == "http://***@10.0.0.7:8080/video.mjpg?res=1"


def test_saving_a_masked_url_keeps_the_stored_password_and_never_returns_it(parts):
    server, _, backend, config = parts
    page, status, body = _save_edited(server, config,
                                      lambda fields: fields.update(timeout="4"))
    assert status == 200 and backend.applied == 1
    assert URL_SECRET not in body.decode()
    saved = yaml.safe_load(config.read_text())["sources"][1]
    assert saved == {"name": "ip", "type": "url", "url": IP_URL, "timeout": 4}
    again = page.request("GET", "/api/config")[2].decode()
    assert URL_SECRET not in again and '"timeout": 4' in again


def test_masked_url_with_a_changed_host_is_refused_and_nothing_written(parts):
    server, _, backend, config = parts
    _, status, body = _save_edited(
        server, config, lambda fields: fields.update(url=fields["url"].replace("10.0.0.7",
                                                                               "10.0.0.9")))
    answer = json.loads(body)
    assert status == 422 and (answer["index"], answer["field"]) == (1, "url")
    assert "type the user and password" in answer["message"]
    assert config.read_text() == IP_CONFIG and backend.applied == 0


def test_status_and_errors_never_carry_a_url_password(parts):
    server, _, backend, _ = parts
    page = Page(server)
    page.login()
    backend.extra_status = {"fault": f"cannot open {IP_URL}: refused", "where": IP_URL}
    status, _, body = page.request("GET", "/api/status")
    assert status == 200 and URL_SECRET not in body.decode()
    assert json.loads(body)["where"] == "http://***@10.0.0.7:8080/video.mjpg?res=1"
    bad = {"sources": [{"name": "ip", "type": "url", "url": IP_URL, "colour": 1}]}
    status, _, body = page.request("POST", "/api/config", bad, {"X-CSRF-Token": page.csrf})
    assert status == 422 and URL_SECRET not in body.decode()


def test_the_api_description_is_served_without_login(parts):
    status, headers, body = Page(parts[0]).request("GET", "/api/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    document = json.loads(body)
    assert document["openapi"].startswith("3.1")
    assert "X-CSRF-Token" in json.dumps(document["paths"]["/api/config"]["post"])


def _docs_example() -> str:
    text = (Path(__file__).resolve().parents[3] / "docs" / "settings-page.md").read_text()
    section = text.split("## The HTTP API for scripts", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_scripts_example_in_the_docs_adds_a_camera(parts, tmp_path):
    """The docs' example, run as written against the page (its certificate pinned)."""
    server, _, backend, config = parts
    environment = {**os.environ, "SETTINGS_PAGE": f"https://127.0.0.1:{server.port}",
                   "SETTINGS_CERT": str(config.parent / "settings-cert.pem"),
                   "ROBOT_USER": "admin", "ROBOT_PASSWORD": PASSWORD}
    script = tmp_path / "add_camera.py"
    script.write_text(_docs_example())
    run = subprocess.run([sys.executable, str(script)], env=environment, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "applied:" in run.stdout and backend.applied == 1
    saved = yaml.safe_load(config.read_text())["sources"]
    assert [s["name"] for s in saved] == ["front", "mast"]
    assert saved[1]["url"] == "http://192.168.80.20/video.mjpg"
