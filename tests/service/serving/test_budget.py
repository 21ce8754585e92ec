"""The memory budget: the cgroup limit, the derived figures, per-call and in-flight bounds,
and the servicer refusing images (not the RPC) past them."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from bosdyn.api import image_pb2
from camera_service.core.memory_limits import (
    MIB,
    BudgetLimits,
    cgroup_memory_limit,
    headroom_bytes,
    private_resident_bytes,
    resolve_limit,
)
from camera_service.encoding.encoder import OutputSpec
from camera_service.encoding.output_cache import OutputCache
from camera_service.serving.budget import MemoryBudget, OverBudget
from service_test_helpers import synthetic, wait_for

Resp = image_pb2.ImageResponse
RAW = image_pb2.Image.FORMAT_RAW


def _cgroup_tree(tmp_path, proc_line: str, files: dict):
    proc = tmp_path / "cgroup"
    proc.write_text(proc_line + "\n")
    root = tmp_path / "fs"
    for relative, value in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return str(root), str(proc)


def test_cgroup_v2_limit_of_the_process_path(tmp_path):
    root, proc = _cgroup_tree(tmp_path, "0::/ext/camera",
                              {"ext/camera/memory.max": str(512 * MIB), "memory.max": "max"})
    assert cgroup_memory_limit(root, proc) == 512 * MIB


def test_cgroup_v1_smallest_limit_along_the_path_wins(tmp_path):
    root, proc = _cgroup_tree(tmp_path, "4:memory:/docker/abc", {
        "memory/docker/abc/memory.limit_in_bytes": str(2048 * MIB),
        "memory/docker/memory.limit_in_bytes": str(768 * MIB),
        "memory/memory.limit_in_bytes": "9223372036854771712"})
    assert cgroup_memory_limit(root, proc) == 768 * MIB


def test_no_cgroup_limit_means_none_and_the_default_budget(tmp_path, monkeypatch):
    root, proc = _cgroup_tree(tmp_path, "0::/", {"memory.max": "max"})
    assert cgroup_memory_limit(root, proc) is None
    assert resolve_limit(700) == (700 * MIB, "service.memory_limit_mib")


def test_limits_for_the_extension_container():
    limits = BudgetLimits.from_limit(512 * MIB)
    assert limits.request_bytes < 64 * MIB  # below the gRPC message limit
    assert 64 * MIB <= limits.in_flight_bytes <= 256 * MIB
    assert limits.frame_bytes < 8000 * 8000 * 3 < 0.2 * 1024 * MIB
    assert BudgetLimits.from_limit(4096 * MIB).in_flight_bytes > limits.in_flight_bytes


def _budget(in_flight=100_000, request=50_000, max_images=3, wait=0.05) -> MemoryBudget:
    return MemoryBudget(BudgetLimits(512 * MIB, in_flight, request, 10**9, max_images),
                        max_wait=wait)


RAW_SPEC = OutputSpec("raw", "rgb", 0, 100, 50)  # 15000 bytes


def test_a_call_answers_at_most_max_images():
    call = _budget().open_call()
    for _ in range(3):
        call.admit()
    with pytest.raises(OverBudget, match=r"service\.max_images_per_request"):
        call.admit()


def test_a_response_stops_short_of_the_request_limit():
    budget = _budget(in_flight=10**6, request=40_000)
    call = budget.open_call()
    for _ in range(2):
        call.settle(call.reserve(RAW_SPEC, 100, 50, passthrough=True), 15_000)
    with pytest.raises(OverBudget, match="would take the response past"):
        call.reserve(RAW_SPEC, 100, 50, passthrough=True)
    assert call.response_bytes == 30_000 and budget.refused == 1
    call.close()
    assert budget.used == 0


def test_in_flight_bytes_are_shared_and_returned_when_a_call_ends():
    budget = _budget(in_flight=100_000, request=10**6)
    first, second = budget.open_call(), budget.open_call()
    first.settle(first.reserve(RAW_SPEC, 100, 50, passthrough=True), 15_000)  # holds 45000
    second.settle(second.reserve(RAW_SPEC, 100, 50, passthrough=True), 15_000)
    with pytest.raises(OverBudget, match="at its memory budget"):
        second.reserve(RAW_SPEC, 100, 50, passthrough=True)
    first.close()
    second.reserve(RAW_SPEC, 100, 50, passthrough=True)
    second.close()
    assert budget.used == 0 and budget.peak == 90_000


def test_a_waiting_call_gets_room_freed_within_its_wait():
    budget = _budget(in_flight=50_000, request=10**6, wait=5.0)
    holder = budget.open_call()
    holder.reserve(RAW_SPEC, 100, 50, passthrough=True)
    threading.Timer(0.2, holder.close).start()
    started = time.monotonic()
    budget.open_call().reserve(RAW_SPEC, 100, 50, passthrough=True)
    assert 0.1 < time.monotonic() - started < 4.0


def test_the_wait_never_outlasts_the_call_deadline():
    budget = _budget(in_flight=50_000, request=10**6, wait=5.0)
    budget.open_call().reserve(RAW_SPEC, 100, 50, passthrough=True)
    started = time.monotonic()
    with pytest.raises(OverBudget):
        budget.open_call(lambda: 0.1).reserve(RAW_SPEC, 100, 50, passthrough=True)
    assert time.monotonic() - started < 1.0


def test_an_image_bigger_than_the_whole_budget_is_refused_at_once():
    budget = _budget(in_flight=50_000, request=10**8, wait=5.0)
    with pytest.raises(OverBudget, match="ask for JPEG or a smaller resize_ratio"):
        budget.open_call().reserve(OutputSpec("raw", "rgb", 0, 1000, 1000), 1000, 1000, False)


# -- through the servicer, over gRPC ----------------------------------------------------------
def _raw_request(count: int) -> image_pb2.GetImageRequest:
    return image_pb2.GetImageRequest(image_requests=[
        image_pb2.ImageRequest(image_source_name="cam", image_format=RAW)] * count)


def test_images_past_the_limits_get_a_status_and_the_rpc_answers(local_service):
    budget = _budget(in_flight=10**6, request=4 * 64 * 48 * 3, max_images=10)
    service = local_service(synthetic(native_jpeg=False), budget=budget)
    reply = service.stub.GetImage(_raw_request(10), timeout=10)
    statuses = [r.status for r in reply.image_responses]
    assert statuses == [Resp.STATUS_OK] * 4 + [Resp.STATUS_IMAGE_DATA_ERROR] * 6
    messages = [r.custom_param_error.error_messages[0] for r in reply.image_responses[4:]]
    assert all("would take the response past" in message for message in messages)
    wait_for(lambda: budget.used == 0)  # returned once the call has ended
    (again,) = service.stub.GetImage(_raw_request(1), timeout=10).image_responses
    assert again.status == Resp.STATUS_OK


class _SlowCache(OutputCache):
    """Counts produced images; each takes 0.1 s."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, stored, spec):
        self.calls += 1
        time.sleep(0.1)
        return super().get(stored, spec)


def test_work_stops_when_the_caller_gives_up(local_service):
    cache = _SlowCache()
    service = local_service(synthetic(native_jpeg=False), cache=cache,
                            budget=_budget(in_flight=10**8, request=10**8, max_images=100))
    with pytest.raises(grpc.RpcError) as failed:
        service.stub.GetImage(_raw_request(40), timeout=0.35)
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(0.5)
    done = cache.calls
    time.sleep(0.5)
    assert cache.calls == done < 10  # 40 would take 4 s; it stopped at the deadline


def test_the_measured_gate_holds_the_limit_whatever_the_account_allows():
    """The account has room; the process itself is near its limit: refused, then admitted
    once the process has given memory back."""
    resident = [512 * MIB - 40 * MIB]
    budget = MemoryBudget(BudgetLimits(512 * MIB, 100 * MIB, 50 * MIB, 10**9, 32),
                          max_wait=0.05, measure=lambda: resident[0])
    with pytest.raises(OverBudget, match="memory budget"):
        budget.open_call().reserve(RAW_SPEC, 100, 50, passthrough=False)
    resident[0] = 300 * MIB
    call = budget.open_call()
    assert call.reserve(RAW_SPEC, 100, 50, passthrough=False) > 0
    call.close()


def test_the_measured_gate_counts_what_is_reserved_but_not_yet_allocated():
    """Two equal reservations the process has room for only once (the first one's bytes
    are not allocated yet, so the measurement does not show them): the second is refused."""
    need = _budget(in_flight=10**9).open_call().reserve(RAW_SPEC, 100, 50, passthrough=False)
    ceiling = 512 * MIB - headroom_bytes(512 * MIB)
    budget = MemoryBudget(BudgetLimits(512 * MIB, 100 * MIB, 50 * MIB, 10**9, 32),
                          max_wait=0.05, measure=lambda: ceiling - 2 * need + 1)
    first = budget.open_call()
    assert first.reserve(RAW_SPEC, 100, 50, passthrough=False) == need
    with pytest.raises(OverBudget):
        budget.open_call().reserve(RAW_SPEC, 100, 50, passthrough=False)
    first.close()
    second = budget.open_call()
    assert second.reserve(RAW_SPEC, 100, 50, passthrough=False) == need
    second.close()


def test_private_resident_bytes_reads_this_process():
    assert private_resident_bytes() > 10 * MIB  # Python, numpy, the SDK at the least
    assert private_resident_bytes("/nonexistent/statm") == 0
