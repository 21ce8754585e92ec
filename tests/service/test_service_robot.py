"""The whole camera service against the robot simulator, with real SDK clients.

Covers payload authentication, registration, GetImage through the robot's routing, every
status code, robot reboot and refused tokens, robot unreachable at start, credentials
problems, faults raised and cleared, encode-once under concurrent clients, passthrough.
"""

from __future__ import annotations

import logging
import threading

import pytest
from bosdyn.api import image_pb2, service_customization_pb2
from bosdyn.client.image import (
    ImageClient,
    ImageDataError,
    UnknownImageSourceError,
    UnsupportedImageFormatRequestedError,
    UnsupportedPixelFormatRequestedError,
    UnsupportedResizeRatioRequestedError,
)
from camera_service.cli import healthcheck
from camera_service.robot.faults import fault_name
from service_test_helpers import (
    SERVICE_NAME as NAME,
)
from service_test_helpers import (
    image_client,
    raw_stub,
    service_config,
    wait_for,
)

Image = image_pb2.Image
Resp = image_pb2.ImageResponse


def _synthetic(name="cam", **extra):
    return {"name": name, "type": "synthetic", "width": 160, "height": 120, "fps": 20, **extra}


def _warnings(caplog, needle):
    return [r for r in caplog.records if r.levelno >= logging.WARNING and needle in r.getMessage()]


def test_registers_and_serves_through_the_robot(robot_sim, run_service):
    # the SDK asks for quality 75 by default: a camera at 75 is passed through
    service = run_service(service_config(robot_sim, [_synthetic(fps=1, jpeg_quality=75)]))
    entry = robot_sim.wait_for_service(NAME)
    assert entry.type == "bosdyn.api.ImageService"
    assert entry.authority == f"{NAME}.spot.robot"
    _, client = image_client(robot_sim)
    assert isinstance(client, ImageClient)
    (source,) = client.list_image_sources()
    assert (source.name, source.cols, source.rows) == ("cam", 160, 120)
    assert "brightness" in source.custom_params.specs
    wait_for(lambda: service.clock.established)
    (response,) = client.get_image_from_sources(["cam"])
    assert response.status == Resp.STATUS_OK
    frame = service.store.latest("cam").frame
    # passthrough: the bytes are the camera's own
    assert response.shot.image.data == frame.jpeg
    assert service.cache.encodes == 0 and service.cache.passthroughs >= 1
    # acquisition time is the capture time in robot time (the simulator's clock runs ahead)
    acquired = response.shot.acquisition_time.seconds + response.shot.acquisition_time.nanos / 1e9
    skew = robot_sim.clock.skew_nsec / 1e9
    assert abs(skew) > 1.0
    assert abs(acquired - frame.capture_time - skew) < 0.1


def test_every_status_through_the_robot(robot_sim, run_service):
    service = run_service(service_config(robot_sim, [_synthetic(), _synthetic("dead")]),
                          failing=True)
    robot, client = image_client(robot_sim)
    dead = service.sources[1]
    dead.stop_delivering()
    wait_for(lambda: service.status("dead").failure)

    def request(**fields):
        return image_pb2.ImageRequest(image_source_name=fields.pop("name", "cam"), **fields)

    with pytest.raises(UnknownImageSourceError):
        client.get_image([request(name="nope")])
    with pytest.raises(UnsupportedResizeRatioRequestedError):
        client.get_image([request(resize_ratio=2.0)])
    with pytest.raises(UnsupportedImageFormatRequestedError):
        client.get_image([request(image_format=Image.FORMAT_RLE)])
    with pytest.raises(UnsupportedPixelFormatRequestedError):
        client.get_image([request(pixel_format=Image.PIXEL_FORMAT_DEPTH_U16)])
    with pytest.raises(ImageDataError):
        client.get_image([request(name="dead")])
    params = service_customization_pb2.DictParam()
    params.values["contrast"].int_value.value = -5
    reply = raw_stub(robot).GetImage(image_pb2.GetImageRequest(image_requests=[
        request(custom_params=params), request(image_format=Image.FORMAT_RAW, resize_ratio=0.5)]),
        timeout=5)
    bad, good = reply.image_responses
    assert bad.status == Resp.STATUS_CUSTOM_PARAMS_ERROR
    assert bad.custom_param_error.error_messages
    assert good.status == Resp.STATUS_OK
    assert (good.shot.image.cols, good.shot.image.rows) == (80, 60)
    assert len(good.shot.image.data) == 80 * 60 * 3


def test_fault_raised_and_cleared(robot_sim, run_service):
    service = run_service(service_config(robot_sim, [_synthetic()]), failing=True)
    robot_sim.wait_for_service(NAME)
    source = service.sources[0]

    def our_faults():
        return [f for f in robot_sim.active_faults() if f.fault_id.fault_name == fault_name("cam")]

    source.stop_delivering()
    (fault,) = wait_for(our_faults)
    assert fault.fault_id.service_name == NAME
    assert fault.fault_id.payload_guid == robot_sim.payload_guid
    assert "cam" in fault.error_message
    source.resume()
    wait_for(lambda: not our_faults())
    assert service.store.latest("cam") is not None


def test_robot_reboot_re_registers_and_re_raises_faults(robot_sim, run_service, caplog):
    caplog.set_level(logging.INFO)
    service = run_service(service_config(robot_sim, [_synthetic(), _synthetic("dead")]),
                          failing=True)
    robot_sim.wait_for_service(NAME)
    service.sources[1].stop_delivering()
    wait_for(robot_sim.active_faults)
    before = robot_sim.state.registration(NAME)
    robot_sim.reboot(down_seconds=1.0)
    # the rebooted robot forgot the entry; the service made a new one (no transient state
    # is sampled: the robot's registration object itself is a new one)
    wait_for(lambda: robot_sim.state.registration(NAME) not in (None, before), timeout=15)
    wait_for(lambda: robot_sim.state.fresh_registrations(NAME) >= 2, timeout=15)
    wait_for(lambda: [f for f in robot_sim.active_faults()
                      if f.fault_id.fault_name == fault_name("dead")], timeout=15)
    _, client = image_client(robot_sim)
    assert client.get_image_from_sources(["cam"])[0].status == Resp.STATUS_OK
    assert any("re-registered" in r.getMessage() for r in caplog.records)


def test_refused_token_is_replaced(robot_sim, run_service, caplog):
    caplog.set_level(logging.INFO)
    service = run_service(service_config(robot_sim, [_synthetic()]))
    robot_sim.wait_for_service(NAME)
    first_auth = service.link.session.authenticated_at
    robot_sim.reboot(down_seconds=0.5, invalidate_tokens=True)
    wait_for(lambda: service.link.session.authenticated_at != first_auth, timeout=15)
    robot_sim.wait_for_service(NAME, timeout=15)
    _, client = image_client(robot_sim)
    assert client.get_image_from_sources(["cam"])[0].status == Resp.STATUS_OK


def test_robot_unreachable_at_start_then_up(robot_sim, run_service, caplog):
    caplog.set_level(logging.INFO)
    robot_sim.refuse_connections(3.0)
    service = run_service(service_config(robot_sim, [_synthetic()]))
    # serving locally while the robot is away
    assert healthcheck.check("127.0.0.1", service.port).startswith("ok: 1 source")
    robot_sim.wait_for_service(NAME, timeout=20)
    wait_for(lambda: service.link.connected)
    assert len(_warnings(caplog, "unreachable")) == 1  # one line, then quiet retries
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_payload_not_authorized_yet(robot_sim, run_service, caplog):
    robot_sim.set_payload_authorized(robot_sim.payload_guid, False)
    service = run_service(service_config(robot_sim, [_synthetic()]))
    expected = (f"payload {robot_sim.payload_guid} is not authorized yet: authorize it in the "
                "robot's admin console (Payloads page)")
    caplog.set_level(logging.DEBUG, logger="camera_service.robot.link")
    wait_for(lambda: _warnings(caplog, expected))
    # several retries pass (each logs at debug), and the warning was still given only once
    wait_for(lambda: len([r for r in caplog.records if "still failing" in r.getMessage()
                          and "not authorized" in r.getMessage()]) >= 3, timeout=30)
    assert len(_warnings(caplog, "not authorized")) == 1
    robot_sim.set_payload_authorized(robot_sim.payload_guid, True)
    robot_sim.wait_for_service(NAME, timeout=15)
    assert service.link.connected or wait_for(lambda: service.link.connected)


def test_bad_then_fixed_credentials_file(robot_sim, run_service, caplog, tmp_path):
    secret = "WRONGSECRETVALUE"
    creds = tmp_path / "creds"
    creds.write_text(f"{robot_sim.payload_guid}\n{secret}\n")
    service = run_service(service_config(robot_sim, [_synthetic()], credentials_file=creds))
    wait_for(lambda: _warnings(caplog, "check the payload credentials file"))
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert healthcheck.check("127.0.0.1", service.port).startswith("ok")
    creds.write_text(robot_sim.payload_credentials_file.read_text())
    robot_sim.wait_for_service(NAME, timeout=20)


def test_missing_credentials_file_is_waited_for(robot_sim, run_service, caplog, tmp_path):
    creds = tmp_path / "later"
    run_service(service_config(robot_sim, [_synthetic()], credentials_file=creds))
    wait_for(lambda: _warnings(caplog, "does not exist"))
    creds.write_text(robot_sim.payload_credentials_file.read_text())
    robot_sim.wait_for_service(NAME, timeout=20)


def test_concurrent_clients_through_the_robot_share_encodes(robot_sim, run_service):
    # thin-link: quality 40 is clearly below the camera's 75, so it is re-encoded
    service = run_service(service_config(robot_sim, [_synthetic(
        fps=5, jpeg_passthrough="thin-link")]))
    clients = [image_client(robot_sim)[1] for _ in range(4)]
    request = image_pb2.ImageRequest(image_source_name="cam", image_format=Image.FORMAT_JPEG,
                                     quality_percent=40)
    first_serial = service.store.latest("cam").serial
    barrier = threading.Barrier(len(clients))
    failures = []

    def poll(client):
        barrier.wait()
        for _ in range(10):
            if client.get_image([request])[0].status != Resp.STATUS_OK:
                failures.append(1)

    threads = [threading.Thread(target=poll, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frames = service.store.latest("cam").serial - first_serial + 1
    assert not failures
    assert 1 <= service.cache.encodes <= frames  # 40 responses, at most one encode per frame
    assert service.cache.hits >= 40 - frames


def test_external_mode_logs_in_as_a_user(robot_sim, run_service, monkeypatch):
    monkeypatch.setenv("BOSDYN_CLIENT_USERNAME", robot_sim.username)
    monkeypatch.setenv("BOSDYN_CLIENT_PASSWORD", robot_sim.password)
    service = run_service(service_config(robot_sim, [_synthetic()], mode="external"))
    robot_sim.wait_for_service(NAME, timeout=15)
    assert service.link.session.payload_guid is None
    _, client = image_client(robot_sim)
    assert client.get_image_from_sources(["cam"])[0].status == Resp.STATUS_OK


def test_quick_reboot_between_keepalives_brings_faults_back(robot_sim, run_service):
    config = service_config(robot_sim, [_synthetic(), _synthetic("dead")], keepalive_seconds=2)
    service = run_service(config, failing=True)
    robot_sim.wait_for_service(NAME)
    service.sources[1].stop_delivering()

    def dead_fault():
        return [f for f in robot_sim.active_faults()
                if f.fault_id.fault_name == fault_name("dead")]

    (raised,) = wait_for(dead_fault)
    wait_for(lambda: service.faults.in_sync())
    robot_sim.reboot(down_seconds=0.1)  # over before the next keep-alive round
    robot_sim.wait_until_serving()
    robot_sim.wait_for_service(NAME, timeout=10)
    # the robot forgot the fault and the service raised it again: a fault with a new onset
    # (nothing transient is sampled, however fast the service is back)
    wait_for(lambda: [f for f in dead_fault() if f.onset_timestamp != raised.onset_timestamp],
             timeout=10)
