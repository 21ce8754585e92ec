"""The slow HTTP/2 client really stalls a gRPC server: its calls reach the handler, the
server sends response headers but never a byte of the message, and the call does not end
while the client holds the connection. Whatever a server keeps for a call until it ends
(the image service's memory budget does) is then kept: with 2 such clients, a server whose
unary method holds a slot per call until the call ends times out every normal caller."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from concurrent import futures

import grpc
import pytest
from bosdyn.api import image_pb2

from devtools.polling import wait_for
from fake_clients.slow_h2_client import (
    GET_IMAGE_PATH,
    SlowH2Client,
    SlowH2Clients,
    get_image_request,
    grpc_frame,
)
from robot_sim import certs

RESPONSE = b"\0" * (1 << 20)


class TinyServer:
    """A grpc.server with ``workers`` threads and one unary method at GET_IMAGE_PATH that
    answers 1 MiB; with ``slots``, each call holds a slot until the call has ended (as the
    image service holds its memory budget) and a call finding none waits for one."""

    def __init__(self, workers: int = 2, slots: int | None = None, credentials=None):
        self.requests = []
        self.ended = 0
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(slots) if slots else None
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers),
                                  handlers=[self])
        address = "127.0.0.1:0"
        self.port = (self.server.add_secure_port(address, credentials) if credentials
                     else self.server.add_insecure_port(address))
        self.server.start()

    def service(self, details):
        if details.method != GET_IMAGE_PATH:
            return None
        return grpc.unary_unary_rpc_method_handler(
            self._get_image, request_deserializer=image_pb2.GetImageRequest.FromString)

    def _get_image(self, request, context):
        if self._slots is not None:
            if not self._slots.acquire(timeout=30):
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "no slot")
            context.add_callback(self._call_ended)
        with self._lock:
            self.requests.append(request)
        return RESPONSE

    def _call_ended(self) -> None:
        with self._lock:
            self.ended += 1
        self._slots.release()

    def normal_call(self, channel: grpc.Channel, timeout: float = 2.0) -> bytes:
        return channel.unary_unary(GET_IMAGE_PATH)(b"", timeout=timeout)

    def stop(self) -> None:
        self.server.stop(0)


@pytest.fixture
def tiny():
    servers = []

    def make(**options) -> TinyServer:
        servers.append(TinyServer(**options))
        return servers[-1]
    yield make
    for server in servers:
        server.stop()


def test_the_call_is_a_grpc_message_asking_for_32_raw_images():
    frame = grpc_frame(get_image_request(["left", "right"]))
    compressed, length = struct.unpack(">BI", frame[:5])
    assert compressed == 0 and length == len(frame) - 5
    request = image_pb2.GetImageRequest.FromString(frame[5:])
    assert len(request.image_requests) == 32
    assert {r.image_format for r in request.image_requests} == {image_pb2.Image.FORMAT_RAW}
    assert [r.image_source_name for r in request.image_requests[:3]] == ["left", "right",
                                                                          "left"]


def _stalled(client: SlowH2Client) -> bool:
    return client.response_started.is_set() and not client.ended.is_set() \
        and client.data_bytes == 0


def test_two_zero_window_clients_time_out_every_normal_call(tiny):
    server = tiny(workers=2, slots=2)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    assert server.normal_call(channel) == RESPONSE  # served before the slow clients
    wait_for(lambda: server.ended == 1, what="the normal call's end")
    with SlowH2Clients(f"127.0.0.1:{server.port}", 2, sources=["camera"]) as slow:
        for client in slow.clients:
            assert client.response_started.wait(10), "the server answered no headers"
        assert [len(r.image_requests) for r in server.requests[1:]] == [32, 32]
        assert all(_stalled(client) for client in slow.clients)
        with pytest.raises(grpc.RpcError) as blocked:
            server.normal_call(channel)
        assert blocked.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert server.ended == 1 and all(_stalled(client) for client in slow.clients)
    # Closing the connections ends the calls: what they held comes back.
    wait_for(lambda: server.ended >= 3, what="the stalled calls' end")
    assert server.normal_call(channel, timeout=10) == RESPONSE
    channel.close()


def test_grpc_frees_the_worker_of_a_stalled_unary_call(tiny):
    """What the stall blocks is what the handler keeps until the call ends, not the worker
    thread: gRPC Python returns the worker once a unary answer is queued."""
    server = tiny(workers=2)
    with SlowH2Clients(f"127.0.0.1:{server.port}", 2) as slow, \
            grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        for client in slow.clients:
            assert client.response_started.wait(10)
        assert server.normal_call(channel, timeout=10) == RESPONSE
        assert all(_stalled(client) for client in slow.clients)


def test_over_tls_with_an_authority(tiny, tmp_path):
    ca, cert, key = certs.generate()
    (tmp_path / "ca.pem").write_bytes(ca)
    server = tiny(workers=2, credentials=grpc.ssl_server_credentials([(key, cert)]))
    with SlowH2Client(f"127.0.0.1:{server.port}", tls=True, ca=str(tmp_path / "ca.pem"),
                      authority="api.spot.robot", token="secret-token") as client:
        assert client.response_started.wait(10)
        assert _stalled(client) and len(server.requests) == 1


def test_an_unreachable_target_is_one_line():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionError, match=rf"^cannot connect to 127.0.0.1:{port}: "):
        SlowH2Client(f"127.0.0.1:{port}").open()


def test_cli_holds_connections_until_terminated(tiny):
    server = tiny(workers=2)
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_clients.slow_h2_client", "--target",
         f"127.0.0.1:{server.port}", "--connections", "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("holding 3 zero-window GetImage call(s)")
        wait_for(lambda: len(server.requests) == 3, what="three calls")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_cli_refuses_a_bad_target_in_one_line():
    done = subprocess.run([sys.executable, "-m", "fake_clients.slow_h2_client", "--target",
                           "nowhere"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(
        "--target must be host:port, got 'nowhere'")
    assert "Traceback" not in done.stderr
