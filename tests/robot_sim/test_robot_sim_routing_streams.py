"""Routing forwards every call shape (unary, server/client/bidi streaming) and status codes."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from bosdyn.client.directory_registration import DirectoryRegistrationClient

SERVICE = "sim.test.Echo"


def _echo_handlers():
    def unary(request, context):
        return request.upper()

    def split(request, context):
        yield from (bytes([b]) for b in request)

    def join(requests, context):
        return b"".join(requests)

    def chat(requests, context):
        for request in requests:
            yield b"re:" + request

    def fail(request, context):
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "camera busy")

    return grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Split": grpc.unary_stream_rpc_method_handler(split),
        "Join": grpc.stream_unary_rpc_method_handler(join),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    })


@pytest.fixture
def echo_channel(robot_sim):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         handlers=[_echo_handlers()])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    robot = robot_sim.sdk_robot()
    robot.ensure_client(DirectoryRegistrationClient.default_service_name).register(
        "echo", SERVICE, "echo", "127.0.0.1", port)
    yield robot.ensure_secure_channel("echo.spot.robot")
    server.stop(None)


def test_all_call_shapes_are_forwarded(echo_channel):
    assert echo_channel.unary_unary(f"/{SERVICE}/Unary")(b"abc", timeout=5) == b"ABC"
    assert list(echo_channel.unary_stream(f"/{SERVICE}/Split")(b"xyz", timeout=5)) == [
        b"x", b"y", b"z"]
    assert echo_channel.stream_unary(f"/{SERVICE}/Join")(iter([b"a", b"b"]), timeout=5) == b"ab"
    assert list(echo_channel.stream_stream(f"/{SERVICE}/Chat")(iter([b"1", b"2"]),
                                                                timeout=5)) == [b"re:1", b"re:2"]


def test_service_status_codes_pass_through(echo_channel):
    with pytest.raises(grpc.RpcError) as caught:
        echo_channel.unary_unary(f"/{SERVICE}/Fail")(b"", timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.details() == "camera busy"


def test_shared_authority_routes_by_service_type(robot_sim, image_server):
    echo = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[_echo_handlers()])
    echo_port = echo.add_insecure_port("127.0.0.1:0")
    echo.start()
    try:
        robot = robot_sim.sdk_robot()
        registration = robot.ensure_client(DirectoryRegistrationClient.default_service_name)
        registration.register("echo", SERVICE, "shared", "127.0.0.1", echo_port)
        registration.register("images", "bosdyn.api.ImageService", "shared", "127.0.0.1",
                              image_server.port)
        robot.sync_with_directory()
        assert robot.ensure_client("images").list_image_sources()
        channel = robot.ensure_secure_channel("shared.spot.robot")
        assert channel.unary_unary(f"/{SERVICE}/Unary")(b"ok", timeout=5) == b"OK"
    finally:
        echo.stop(None)
