"""Issue 23, defect 5: clients that never read their answers (HTTP/2 zero flow-control
window, 32 RAW images, no deadline) made every other caller time out until they closed.
Now calls waiting for memory never take every worker (``MemoryBudget.max_waiting``) and
the request guard cancels unread answers once others need the memory: a normal client keeps
getting fresh frames. (The frame rate through the robot is a benchmark:
``python -m bench.slow_consumers``.)"""

from __future__ import annotations

import grpc
import pytest
from bosdyn.api import image_pb2, image_service_pb2_grpc
from camera_service.core.memory_limits import MIB, BudgetLimits
from camera_service.serving.budget import MemoryBudget
from service_test_helpers import synthetic, wait_for

slow_h2_client = pytest.importorskip("fake_clients.slow_h2_client")

STALLED = 10
NORMAL_CALLS = 30


def test_stalled_clients_do_not_hold_the_memory_normal_clients_need(local_service):
    camera = synthetic(native_jpeg=False, width=640, height=480, fps=30)
    limits = BudgetLimits.from_limit(512 * MIB)  # the extension's container
    service = local_service(camera, budget=MemoryBudget(limits))
    with slow_h2_client.SlowH2Clients(f"127.0.0.1:{service.service.port}", STALLED,
                                      sources=[camera.name], images=32) as stalled:
        # at least the calls that fit in the budget are answered, and then stuck
        wait_for(lambda: sum(c.response_started.is_set() for c in stalled.clients) >= 2,
                 timeout=30, what="stalled calls answered")
        channel = grpc.insecure_channel(f"127.0.0.1:{service.service.port}")
        stub = image_service_pb2_grpc.ImageServiceStub(channel)
        request = image_pb2.GetImageRequest(image_requests=[image_pb2.ImageRequest(
            image_source_name=camera.name, image_format=image_pb2.Image.FORMAT_JPEG)])
        statuses = []
        try:
            for _ in range(NORMAL_CALLS):
                reply = stub.GetImage(request, timeout=5)
                statuses.append(reply.image_responses[0].status)
        finally:
            channel.close()
        assert statuses == [image_pb2.ImageResponse.STATUS_OK] * NORMAL_CALLS
