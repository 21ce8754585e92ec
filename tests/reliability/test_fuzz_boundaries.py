"""Fuzzing at the boundaries of issue 23, each inside a 512 MiB memory cgroup (the
extension's ``mem_limit``; without root, the configured budget and the sampled RSS).

- **GetImage requests** (``serving.request_guard``): counts from 0 to 300,000 image
  requests (a 4 MB message holds ~830,000), source names up to 100,000 characters, any enum
  number, NaN/infinite/negative qualities and resize ratios, custom parameters nested up to
  30 levels (protobuf's depth limit is about 32); against the service process registered
  with the robot simulator. Every call is answered (one ``ImageResponse`` per request up to
  the cap) or refused whole (one header error, a bounded answer), or refused by gRPC for its
  size; a normal client is served between the examples; the process never passes the
  limit (cgroup peak, RSS sampled).
- **Config files** (``config.yaml_file``): valid configs cut at any byte, random bytes,
  deep nesting, aliases, long lists, empty files; read by a child process in the cgroup.
  Every file is applied or refused with one line; an empty one is refused.

Examples are bounded (``FUZZ_EXAMPLES``, default 60 per boundary); the seed is printed and
can be replayed with ``FUZZ_SEED=<n>``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import grpc
import psutil
import pytest
import yaml
from bosdyn.api import header_pb2, image_pb2, image_service_pb2_grpc
from bosdyn.api import service_customization_pb2 as sc
from bosdyn.client.image import build_image_request
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st
from memory_cgroup import MemoryCgroup, RssSampler
from reliability_support import MAX_MESSAGE_BYTES, config_mapping, synthetic

from bench.processes import ServiceProcess
from devtools.polling import wait_for
from robot_sim import RobotSimulator

MIB = 1024 * 1024
LIMIT = 512 * MIB
MAX_IMAGES = 32
REQUEST_LIMIT = 4 * MIB  # the service's grpc.max_receive_message_length
CLIENT_BYTES = 2 * REQUEST_LIMIT  # the most a generated GetImageRequest may serialize to
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
Resp = image_pb2.ImageResponse
INVALID = header_pb2.CommonError.CODE_INVALID_REQUEST
SOURCES = ("cam", "raw")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
print(f"\nboundary fuzzing: seed {SEED} (replay: FUZZ_SEED={SEED}), {EXAMPLES} examples each")


class Cgrouped:
    """A command started inside a fresh 512 MiB memory cgroup (or plain, without root)."""

    def __init__(self) -> None:
        self.cgroup = MemoryCgroup(LIMIT) if MemoryCgroup.available() else None

    def wrap(self, command):
        if self.cgroup is None:
            return list(command)
        procs = self.cgroup.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *command]

    def check(self, pid: int, sampler: RssSampler) -> None:
        """Alive, never past the limit, no OOM kill."""
        assert psutil.pid_exists(pid), "the process died"
        assert sampler.peak < LIMIT, f"RSS peak {sampler.peak / MIB:.0f} MiB"
        if self.cgroup is not None:
            assert self.cgroup.oom_kills() == 0, "OOM-killed inside the cgroup"
            assert (self.cgroup.peak() or 0) < LIMIT

    def remove(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()


# -- GetImage ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    cgrouped = Cgrouped()
    with RobotSimulator(state_dir=tmp_path_factory.mktemp("robot")) as sim:
        mapping = config_mapping(sim, [synthetic("cam", 640, 480, fps=15),
                                       synthetic("raw", 640, 480, fps=15, native_jpeg=False)])
        if cgrouped.cgroup is None:
            mapping["service"] = {"memory_limit_mib": LIMIT // MIB}
        process = ServiceProcess(mapping)
        process.command = cgrouped.wrap(process.command)
        try:
            process.start(timeout=60)
            sampler = RssSampler(process.process.pid)
            channel = grpc.insecure_channel(
                f"127.0.0.1:{process.port}",
                options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                         ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
            stub = image_service_pb2_grpc.ImageServiceStub(channel)
            sim.wait_for_service("camera-image-service", timeout=30)
            yield process, stub, sampler, cgrouped
            sampler.stop()
            channel.close()
            print(f"\nGetImage fuzzing: RSS peak {sampler.peak / MIB:.0f} MiB, cgroup peak "
                  f"{(cgrouped.cgroup.peak() or 0) / MIB if cgrouped.cgroup else 0:.0f} MiB "
                  f"(limit {LIMIT // MIB} MiB)")
        finally:
            process.stop()
            cgrouped.remove()


floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, 0.5, 1.0, -1.0, float("nan"), float("inf")]))
enums = st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1))
names = st.one_of(st.sampled_from(SOURCES), st.text(max_size=30),
                  st.builds(lambda n: "n" * n, st.integers(200, 100_000)))


def nested_params(depth: int) -> sc.DictParam:
    """A DictParam ``depth`` levels deep."""
    root = sc.DictParam()
    node = root
    for _ in range(depth):
        node = node.values["nested"].dict_value
    node.values["leaf"].int_value.value = 1
    return root


@st.composite
def image_request(draw) -> image_pb2.ImageRequest:
    request = image_pb2.ImageRequest(image_source_name=draw(names))
    request.quality_percent = draw(floats)
    request.image_format = draw(enums)
    request.pixel_format = draw(enums)
    request.resize_ratio = draw(floats)
    depth = draw(st.one_of(st.none(), st.integers(0, 30)))  # ~32: protobuf's depth limit
    if depth is not None:
        request.custom_params.CopyFrom(nested_params(depth))
    return request


@st.composite
def get_image_request(draw) -> image_pb2.GetImageRequest:
    """A few distinct requests repeated up to ``count`` times (counts up to 300,000), the
    whole message at most ``CLIENT_BYTES`` - twice the service's limit, so messages over it
    are tried, while the test's own memory stays bounded (300,000 requests naming a
    100,000-character source would be 30 GB in this process)."""
    count = draw(st.one_of(st.integers(0, MAX_IMAGES + 2), st.integers(33, 2000),
                           st.sampled_from([10_000, 100_000, 300_000])))
    distinct = draw(st.lists(image_request(), min_size=1, max_size=3))
    largest = max(item.ByteSize() for item in distinct) + 8  # field tag and length
    count = min(count, CLIENT_BYTES // largest)
    request = image_pb2.GetImageRequest()
    request.image_requests.extend(distinct[i % len(distinct)] for i in range(count))
    return request


def _normal_client_served(stub) -> bool:
    reply = stub.GetImage(image_pb2.GetImageRequest(
        image_requests=[build_image_request("cam")]), timeout=10)
    return reply.image_responses[0].status == Resp.STATUS_OK


@pytest.mark.slow
@seed(SEED)
@FUZZ
@given(request=get_image_request())
def test_every_get_image_is_answered_or_refused_within_the_limit(served, request):
    process, stub, sampler, cgrouped = served
    size = request.ByteSize()
    try:
        reply = stub.GetImage(request, timeout=30)
    except grpc.RpcError as err:
        # refused by gRPC before any of our code: only for a message over its size limit
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and size > REQUEST_LIMIT, (
            f"{err.code().name}: {err.details()} for a {size} byte request")
        event("refused by gRPC (request size)")
    else:
        count = len(request.image_requests)
        if reply.header.error.code == INVALID:
            assert not reply.image_responses and reply.ByteSize() < 4096
            if "not a valid GetImageRequest" in reply.header.error.message:
                event("refused whole: does not parse (nesting past protobuf's limit)")
            else:
                event("refused whole by the request guard")
                assert count > MAX_IMAGES or any(
                    len(r.image_source_name) > 256 or r.custom_params.ByteSize() > 64 * 1024
                    for r in request.image_requests)
        else:
            event("answered")
            assert reply.header.error.code == header_pb2.CommonError.CODE_OK
            assert len(reply.image_responses) == count <= MAX_IMAGES
    cgrouped.check(process.process.pid, sampler)
    assert _normal_client_served(stub), "a normal client was not served"


# -- config files -------------------------------------------------------------------------------
VALID = {"service": {"name": "cams", "port": 21230},
         "sources": [{"name": f"cam{i}", "type": "synthetic", "width": 160, "height": 120,
                      "fps": 10} for i in range(3)]}
VALID_TEXT = yaml.safe_dump(VALID, sort_keys=False)


def _alias_chain(levels: int, fan: int) -> str:
    lines = ["a0: &a0 [x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join(['*a' + str(level - 1)] * fan)}]")
    return "\n".join(lines) + "\n"


config_texts = st.one_of(
    st.integers(0, len(VALID_TEXT)).map(lambda cut: VALID_TEXT[:cut]),  # cut while written
    st.binary(max_size=2000),
    st.text(max_size=500),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
    st.tuples(st.integers(2, 30), st.integers(1, 12)).map(lambda t: _alias_chain(*t)),
    st.integers(0, 6000).map(lambda n: "sources:\n" + "".join(
        f"  - {{name: c{i}, type: synthetic}}\n" for i in range(n))),
    st.sampled_from(["", "\n\n", "# only a comment\n", "   \n# x\n"]),
)


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    cgrouped = Cgrouped()
    child = Path(__file__).with_name("config_reader_child.py")
    process = subprocess.Popen(cgrouped.wrap([sys.executable, str(child)]),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                   ["service", os.environ.get("PYTHONPATH", "")])})
    wait_for(lambda: psutil.pid_exists(process.pid))
    sampler = RssSampler(process.pid)
    folder = tmp_path_factory.mktemp("configs")
    yield process, sampler, cgrouped, folder
    process.stdin.close()
    process.wait(10)
    sampler.stop()
    stderr = process.stderr.read()
    print(f"\nconfig fuzzing: RSS peak {sampler.peak / MIB:.0f} MiB (limit {LIMIT // MIB} MiB)")
    cgrouped.remove()
    assert "Traceback" not in stderr, stderr[-2000:]


@pytest.mark.slow
@seed(SEED)
@FUZZ
@given(content=config_texts)
def test_every_config_file_is_applied_or_refused_in_one_line(reader, content):
    process, sampler, cgrouped, folder = reader
    path = folder / "config.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    process.stdin.write(f"{path}\n")
    process.stdin.flush()
    line = process.stdout.readline()
    assert line, f"the reader died: {process.stderr.read()[-2000:]}"
    answer = json.loads(line)
    if answer["ok"]:
        event("applied")
        assert answer["sources"] >= 0
    else:
        event("refused")
        message = answer["message"]
        assert "\n" not in message and len(message) < 600
        if isinstance(content, str) and all(
                not ln.strip() or ln.lstrip().startswith("#") for ln in content.splitlines()):
            assert "is empty" in message  # nothing in it: never read as the defaults
        if "alias bomb" in message:
            assert "*" in (content if isinstance(content, str) else "")  # aliases, really
    cgrouped.check(process.pid, sampler)
