"""Fuzzing the settings page's HTTP boundary (issue 23), the service process inside a 512 MiB
memory cgroup (without root: the configured budget and private memory sampled).

hypothesis builds raw HTTPS requests, sent on their own TLS connections: any method, known
routes and made-up paths (long, dotted, escaped), headers of any name and size (lying or
negative ``Content-Length``, chunked framing, forged ``Origin``, random cookies and CSRF
tokens), bodies of random bytes, JSON of any shape and deep nesting - half of them carrying
a real logged-in session and its CSRF token, so the handlers behind the guards are reached
too. For every request: the server answers with a status line (never 500) or closes the
connection, within a bound; the process stays alive and under the limit. After the run the
page still answers, the image service still serves, nothing was logged at ERROR and the
log grew by a bounded number of lines.

``FUZZ_EXAMPLES`` (default 60) bounds the examples; the seed is printed and replayed with
``FUZZ_SEED=<n>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import ssl
import time
from typing import Dict, List, Optional, Tuple

import grpc
import pytest
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.image import build_image_request
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from memory_cgroup import MemoryCgroup, RssSampler
from reliability_support import config_mapping, synthetic

from bench.processes import ServiceProcess
from devtools.demo import free_port
from devtools.polling import wait_for
from robot_sim import RobotSimulator

MIB = 1024 * 1024
LIMIT = 512 * MIB
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
ANSWER_SECONDS = 25.0  # the body deadline (10 s) and a loaded machine's slack
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
ROUTES = ["/", "/index.html", "/static/app.js", "/static/../../etc/passwd", "/api/session",
          "/api/login", "/api/status", "/api/cameras", "/api/config", "/api/frame?source=cam",
          "/api/controls?source=cam", "/api/controls", "/api/controls/reset",
          "/api/controls/keep", "/api/openapi.json", "/api/calibrate", "/api/calibrate/start",
          "/api/calibrate/solve", "/api/calibrate/save", "/api/frame?source=" + "x" * 5000]
SOURCES = [synthetic("cam", 320, 240, fps=10)]
print(f"\nsettings page fuzzing: seed {SEED} (replay: FUZZ_SEED={SEED}), {EXAMPLES} examples")


class Page:
    """The running service's settings page, one TLS connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._context = ssl._create_unverified_context()
        self.cookie = ""
        self.csrf = ""

    def send(self, raw: bytes) -> Tuple[Optional[int], bytes]:
        """Send ``raw`` and read until the server closes; (status or None, bytes read).
        Fails when the server neither answers nor closes within ``ANSWER_SECONDS``."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as plain, \
                self._context.wrap_socket(plain, server_hostname="127.0.0.1") as sock:
            sock.settimeout(ANSWER_SECONDS)
            # the server may close before taking it all; what it sent still counts
            with contextlib.suppress(ssl.SSLError, OSError):
                sock.sendall(raw)
            data = b""
            while True:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    raise AssertionError(f"no answer and no close within {ANSWER_SECONDS} s "
                                         f"for {raw[:120]!r}") from None
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                data += chunk
        if not data.startswith(b"HTTP/1.1 "):
            return None, data
        return int(data[9:12]), data

    def request(self, method: str, path: str, body: Optional[dict] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[Optional[int], bytes]:
        content = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
                 "Content-Type: application/json", f"Content-Length: {len(content)}"]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return self.send("\r\n".join(lines).encode() + b"\r\n\r\n" + content)

    def login(self, username: str, password: str) -> None:
        status, data = self.request("POST", "/api/login",
                                    {"username": username, "password": password})
        assert status == 200, data[:300]
        head, _, body = data.partition(b"\r\n\r\n")
        cookie = next(line for line in head.decode("latin-1").split("\r\n")
                      if line.lower().startswith("set-cookie:"))
        self.cookie = cookie.split(":", 1)[1].strip().split(";")[0]
        self.csrf = json.loads(body)["csrf"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    cgroup = MemoryCgroup(LIMIT) if MemoryCgroup.available() else None
    with RobotSimulator(state_dir=tmp_path_factory.mktemp("robot")) as sim:
        mapping = config_mapping(sim, SOURCES)
        mapping["settings"] = {"port": free_port(), "bind": "127.0.0.1",
                               "data_dir": str(tmp_path_factory.mktemp("settings"))}
        if cgroup is None:
            mapping["service"] = {"memory_limit_mib": LIMIT // MIB}
        process = ServiceProcess(mapping)
        if cgroup is not None:
            procs = cgroup.path / "cgroup.procs"
            process.command = ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh",
                               *process.command]
        try:
            process.start(timeout=60)
            sampler = RssSampler(process.process.pid)
            sim.wait_for_service("camera-image-service", timeout=30)
            settings_page = Page(mapping["settings"]["port"])
            wait_for(lambda: _answers(settings_page), timeout=30, what="the settings page")
            settings_page.login(sim.username, sim.password)
            yield settings_page, process, sampler, cgroup
            sampler.stop()
            print(f"\nsettings page fuzzing: private memory peak {sampler.peak / MIB:.0f} MiB, "
                  f"cgroup peak {(cgroup.peak() or 0) / MIB if cgroup else 0:.0f} MiB "
                  f"(limit {LIMIT // MIB} MiB)")
        finally:
            process.stop()
            if cgroup is not None:
                cgroup.remove()


def _answers(page: Page) -> bool:
    try:
        return page.request("GET", "/api/session")[0] in (200, 401)  # signed in or not
    except (OSError, AssertionError):
        return False


# -- what a client may send ------------------------------------------------------------------
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=40)),
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=40)
nested = st.integers(1, 100_000).map(lambda depth: b"[" * depth + b"]" * depth)
bodies = st.one_of(
    st.binary(max_size=2048),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"sources": st.lists(json_values, max_size=4)}).map(
        lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"source": st.sampled_from(["cam", "nope", ""]),
                           "values": st.dictionaries(
                               st.sampled_from(["brightness", "contrast", "gain", "x" * 300]),
                               json_values, max_size=3)}).map(lambda v: json.dumps(v).encode()),
    nested,
    st.integers(256 * 1024, 2 * MIB).map(lambda size: b"{" + b" " * size + b"}"),
)
header_names = st.one_of(
    st.sampled_from(["Content-Type", "Content-Length", "Origin", "Cookie", "X-CSRF-Token",
                     "Transfer-Encoding", "Host", "Accept", "Referer", "Connection"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
            min_size=1, max_size=40))
header_values = st.one_of(
    st.sampled_from(["application/json", "text/plain", "chunked", "-1", "0", "99999999999",
                     "https://evil.example", "null", "camera_settings_session=forged"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
huge_header = st.integers(1000, 20_000).map(lambda size: ("X-Huge", "v" * size))
methods = st.one_of(st.just("GET"), st.just("POST"),
                    st.sampled_from(["HEAD", "PUT", "DELETE", "OPTIONS"]),
                    st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=1,
                            max_size=12))
paths = st.one_of(st.sampled_from(ROUTES),
                  st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=80)
                  .map(lambda text: "/" + text),
                  st.integers(2000, 20_000).map(lambda size: "/api/" + "a" * size))


@st.composite
def raw_requests(draw) -> Tuple[bytes, bytes, bool]:
    """(request head without its blank line, body, whether to add the real session) - the
    framing may lie about the body."""
    method, path = draw(methods), draw(paths)
    body = draw(st.one_of(st.just(b""), bodies))
    signed = draw(st.booleans())
    headers: List[Tuple[str, str]] = [("Host", "127.0.0.1")]
    length = draw(st.one_of(st.just(str(len(body))), st.sampled_from(
        ["", str(len(body) + 50), str(max(0, len(body) - 5)), "-3", "1e3", "99999999999"])))
    if length:
        headers.append(("Content-Length", length))
    headers.append(("Content-Type", draw(st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", ""]))))
    headers += draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    if draw(st.integers(0, 9)) == 0:  # one in ten: a header as long as the head may be
        headers.append(draw(huge_header))
    headers.append(("Connection", "close"))
    event(f"method {method if method in ('GET', 'POST') else 'other'}, signed {signed}")
    head = "\r\n".join([f"{method} {path} HTTP/1.1"] + [f"{n}: {v}" for n, v in headers])
    return head.encode() + b"\r\n", body, signed


@seed(SEED)
@FUZZ
@given(raw_requests())
def test_every_request_is_answered_or_refused_never_a_500(page, request):
    settings_page, process, sampler, cgroup = page
    head, body, signed = request
    if signed:  # the real session, so the handlers behind the guards are reached
        head += (f"Cookie: {settings_page.cookie}\r\nX-CSRF-Token: {settings_page.csrf}\r\n"
                 ).encode()
    started = time.monotonic()
    status, answer = settings_page.send(head + b"\r\n" + body)
    event(f"status {status}")
    assert status != 500, answer[:400]
    assert status is None or 100 <= status < 600
    assert time.monotonic() - started < ANSWER_SECONDS
    assert process.process.poll() is None, "the service died"
    assert sampler.peak < LIMIT
    if cgroup is not None:
        assert cgroup.oom_kills() == 0


def test_the_page_and_the_service_are_fine_after_the_fuzzing(page):
    settings_page, process, sampler, cgroup = page
    # the fuzzer may have saved an odd but valid config: put the camera back first
    status, answer = settings_page.request("POST", "/api/config", {"sources": SOURCES},
                                           {"X-CSRF-Token": settings_page.csrf})
    assert status == 200, answer[:400]
    assert _answers(settings_page)
    with grpc.insecure_channel(f"127.0.0.1:{process.port}") as channel:
        stub = image_service_pb2_grpc.ImageServiceStub(channel)

        def served() -> bool:
            reply = stub.GetImage(image_pb2.GetImageRequest(
                image_requests=[build_image_request("cam")]), timeout=10)
            return reply.image_responses[0].status == image_pb2.ImageResponse.STATUS_OK
        wait_for(served, timeout=30, what="the camera served after the fuzzing")
    errors = [line for line in process.lines if " ERROR " in line]
    assert not errors, errors[:5]
    assert len(process.lines) < 200, process.lines[-20:]
    assert sampler.peak < LIMIT
    if cgroup is not None:
        assert cgroup.oom_kills() == 0
