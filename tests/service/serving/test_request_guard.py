"""The GetImage boundary (``serving.request_guard``): limits checked before any work
proportional to the request, every call ended in bounded time, and clients that do not read
their answers never hold the memory other clients need."""

from __future__ import annotations

import threading

from bosdyn.api import header_pb2, image_pb2
from camera_service.core.memory_limits import MIB, BudgetLimits
from camera_service.serving.budget import MemoryBudget
from camera_service.serving.request_guard import MAX_NAME_CHARS, RequestGuard
from service_test_helpers import synthetic, wait_for

Resp = image_pb2.ImageResponse
INVALID = header_pb2.CommonError.CODE_INVALID_REQUEST


def _requests(count: int, name: str = "cam") -> image_pb2.GetImageRequest:
    request = image_pb2.GetImageRequest()
    one = image_pb2.ImageRequest(image_source_name=name,
                                 image_format=image_pb2.Image.FORMAT_JPEG)
    request.image_requests.extend([one] * count)
    return request


class FakeContext:
    """A running call: ``cancel()`` ends it and runs its callbacks, as gRPC does."""

    def __init__(self) -> None:
        self.callbacks = []
        self.active = True

    def add_callback(self, callback) -> bool:
        if not self.active:
            return False
        self.callbacks.append(callback)
        return True

    def is_active(self) -> bool:
        return self.active

    def time_remaining(self):
        return None

    def cancel(self) -> None:
        self.end()

    def end(self) -> None:
        if self.active:
            self.active = False
            for callback in self.callbacks:
                callback()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- defect 1: 830,000 requests in a 4 MB message -------------------------------------------
def test_a_call_with_too_many_requests_is_refused_whole_with_one_line(local_service):
    service = local_service(synthetic())
    request = _requests(200_000)  # 1.6 MB on the wire: within the request size limit
    raw = service.stub.GetImage.with_call(request, timeout=30)[0]
    answer_bytes = raw.ByteSize()
    assert answer_bytes < 4096, f"{answer_bytes} bytes answered for one refusal"
    assert len(raw.image_responses) == 0
    assert raw.header.error.code == INVALID
    assert "200000 images" in raw.header.error.message
    assert "service.max_images_per_request" in raw.header.error.message
    # the limit itself still answers every image
    ok = service.stub.GetImage(_requests(32), timeout=10)
    assert [r.status for r in ok.image_responses] == [Resp.STATUS_OK] * 32


def test_a_huge_source_name_is_refused_and_never_echoed(local_service):
    service = local_service(synthetic())
    name = "x" * 100_000
    reply = service.stub.GetImage(_requests(32, name), timeout=30)
    assert reply.ByteSize() < 4096
    assert reply.header.error.code == INVALID
    assert f"at most {MAX_NAME_CHARS}" in reply.header.error.message


# -- every call ends in bounded time ------------------------------------------------------------
def test_a_call_without_deadline_is_cancelled_after_the_cap():
    clock = FakeClock()
    guard = RequestGuard(max_images=32, max_call_seconds=30, clock=clock)
    context = FakeContext()
    refused, call = guard.admit(_requests(1), context)
    assert refused is None and call.time_remaining() == 30
    call.handed_over(1000)  # the client never reads its answer
    clock.now += 29
    assert guard.cancel_overdue() == 0 and context.active
    clock.now += 1
    assert guard.cancel_overdue() == 1
    assert not context.active and not call.still_wanted()
    assert guard.watched() == 0 and guard.cancelled == 1


def test_a_call_that_ended_is_never_cancelled():
    clock = FakeClock()
    guard = RequestGuard(max_images=32, max_call_seconds=30, clock=clock)
    context = FakeContext()
    guard.admit(_requests(1), context)
    context.end()
    clock.now += 60
    assert guard.cancel_overdue() == 0 and guard.on_pressure() == 0
    assert guard.cancelled == 0


# -- defect 5: stalled clients cannot hold the memory others need ----------------------------
def test_a_stalled_clients_memory_goes_to_the_next_caller():
    clock = FakeClock()
    guard = RequestGuard(max_images=32, send_grace=1.0, clock=clock)
    budget = MemoryBudget(BudgetLimits(512 * MIB, 1000, 1000, 10**9, 32), max_wait=30)
    budget.on_pressure = guard.on_pressure
    stalled = FakeContext()
    _, stalled_call = guard.admit(_requests(1), stalled)
    held = budget.open_call(stalled_call.time_remaining)
    stalled.add_callback(held.close)
    assert budget._acquire(900, 0)  # its answer, reserved until its call ends
    with held._lock:
        held._held = 900
    stalled_call.handed_over(900)
    clock.now += 0.5  # within the grace a reading client needs: left alone
    assert guard.on_pressure() == 0 and stalled.active
    clock.now += 0.6  # past the grace (1 s and the answer's size at the rate floor)
    got = []
    waiter = threading.Thread(target=lambda: got.append(budget._acquire(500, 30)))
    waiter.start()
    waiter.join(30)
    assert got == [True]  # the waiting call got the room
    assert not stalled.active and guard.cancelled == 1
    assert budget.used == 500


def test_a_reading_client_is_never_cancelled_for_pressure():
    clock = FakeClock()
    guard = RequestGuard(max_images=32, send_grace=1.0, clock=clock)
    working = FakeContext()
    _, call = guard.admit(_requests(1), working)  # still producing its answer
    clock.now += 10
    assert guard.on_pressure() == 0 and working.active
    call.handed_over(100)
    working.end()  # read at once
    clock.now += 10
    assert guard.on_pressure() == 0


def test_waiting_for_memory_never_takes_every_worker():
    """Issue 23, defect 5: calls waiting for memory (up to 2 s per image) held every gRPC
    worker; at most ``max_waiting`` wait, the rest are refused at once."""
    budget = MemoryBudget(BudgetLimits(512 * MIB, 1000, 1000, 10**9, 32), max_wait=30)
    budget.max_waiting = 1
    assert budget._acquire(1000, 0)  # full
    waiting = threading.Thread(target=budget._acquire, args=(500, 30))
    waiting.start()
    wait_for(lambda: budget._waiting == 1)
    assert budget._acquire(500, 30) is False  # refused at once, not after 30 s
    budget._release(1000)
    waiting.join(30)
    assert budget.used == 500
