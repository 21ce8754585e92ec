"""The camera-bytes boundary against the hostile camera (issue 23): every bad stream is
refused with one line, in bounded memory and time, nothing a camera sends is decoded, and
frames are stamped with the arrival of their first byte (issue 24)."""

from __future__ import annotations

import logging
import threading
import tracemalloc

import cv2
import pytest
from camera_service.capture.capture_thread import CaptureThread
from camera_service.capture.frame_store import FrameStore
from camera_service.capture.state_log import StateLog
from camera_service.core.backoff import Backoff
from camera_service.core.errors import CredentialsRefused, SourceUnavailable
from camera_service.sources.base import SourceSettings
from camera_service.sources.camera_limits import DEFAULT_LIMITS, image_format
from camera_service.sources.multipart_reader import HEAD_READ, MultipartReader
from camera_service.sources.url import UrlSource
from camera_service.sources.url_mjpeg import HttpJpegStream, StreamError

from devtools.polling import wait_for
from fake_cameras.hostile_cameras import HostileCameraServer
from fake_cameras.image_bombs import available_formats, declared_frame, png_bomb

MIB = 1024 * 1024
NON_JPEG_BOMBS = ["png"] + [fmt for fmt in available_formats() if fmt not in ("png", "jpeg")]


@pytest.fixture(scope="module")
def server():
    with HostileCameraServer(fps=10.0) as running:
        yield running


def _source(url: str, timeout: float = 2.0) -> UrlSource:
    return UrlSource(SourceSettings("cam", options={"url": url, "timeout": timeout}))


def _in_thread(call):
    """Run ``call`` in a daemon thread; the result (or exception) when it ends within
    ``wait_for``'s timeout, else ``TimeoutError`` (the pre-change reader never ended)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as err:  # handed to the test
            outcome["error"] = err
    threading.Thread(target=run, daemon=True).start()
    wait_for(lambda: outcome, timeout=20, what="the read to end")
    return outcome


@pytest.mark.parametrize("path, words", [
    ("/endless-part-header", "part header over 64 lines"),
    ("/endless-header-line", "part header line over 1024 bytes"),
    ("/endless-http-header", "malformed HTTP response"),
    ("/length-huge", "declared a 1099511627776-byte part"),
])
def test_endless_or_oversized_headers_are_refused_in_bounded_memory(server, path, words):
    """Defect 2: a part header that never ends grew memory 6.6 MB/s without a line."""
    tracemalloc.start()
    try:
        outcome = _in_thread(lambda: HttpJpegStream(server.url(path), 2.0).next_jpeg())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    error = outcome.get("error")
    assert isinstance(error, StreamError) and words in str(error), outcome
    assert "\n" not in str(error)
    assert peak < 4 * MIB


def test_a_part_that_never_ends_is_bounded_by_the_part_limit(server):
    outcome = _in_thread(lambda: HttpJpegStream(server.url("/no-boundary"), 2.0).next_jpeg())
    assert "without length over the 33554432-byte limit" in str(outcome.get("error"))


@pytest.mark.parametrize("fmt", NON_JPEG_BOMBS)
def test_non_jpeg_frames_are_refused_by_name_never_decoded(server, monkeypatch, fmt):
    """Defect 3: a PNG declaring 16000x16000 labelled image/jpeg was decoded (768 MB)."""
    def no_decoding(*args):
        raise AssertionError("camera bytes decoded")
    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    source = _source(server.url(f"/{fmt}-bomb"))
    with pytest.raises(SourceUnavailable) as refused:
        source.open()
    source.close()
    assert "not a JPEG frame" in str(refused.value)
    name, _ = image_format(png_bomb() if fmt == "png" else declared_frame(fmt, 16000, 16000))
    assert name in str(refused.value) and name != "unknown"


@pytest.mark.parametrize("fmt", ["tiff", "hdr", "jp2", "pfm", "png", "gif"])
def test_non_jpeg_cameras_leave_nothing_on_stderr_across_retries(server, capfd, fmt):
    """OpenCV's own lines (libtiff, OpenJPEG, imdecode errors on stderr) leaked on every
    retry of a non-JPEG camera."""
    if fmt not in NON_JPEG_BOMBS:
        pytest.skip(f"this OpenCV cannot encode {fmt}")
    capfd.readouterr()
    outcomes = []
    for _ in range(3):
        source = _source(server.url(f"/{fmt}-bomb"))
        try:
            source.open()
            outcomes.append("opened")
        except SourceUnavailable as err:
            outcomes.append(str(err))
        finally:
            source.close()
    assert capfd.readouterr().err == ""
    assert all("not a JPEG frame" in outcome for outcome in outcomes), outcomes


def test_declared_sizes_are_read_from_the_headers():
    assert image_format(png_bomb(16000, 12000)) == ("PNG", (16000, 12000))
    for fmt, name in (("gif", "GIF"), ("bmp", "BMP")):
        if fmt in available_formats():
            assert image_format(declared_frame(fmt, 16000, 9000)) == (name, (16000, 9000))


def test_a_dripping_camera_is_faulted_by_the_byte_rate_floor(server):
    """A camera dripping 1 byte/s (every read within the timeout) was never faulted."""
    outcome = _in_thread(lambda: HttpJpegStream(server.url("/drip?rate=4"), 1.5).next_jpeg())
    error = str(outcome.get("error"))
    assert "no complete frame" in error and "check its network link" in error


def test_a_dripping_cameras_thread_ends_after_removal(server):
    """... and its capture thread survived the camera's removal."""
    failures = []
    capture = CaptureThread(_source(server.url("/drip?rate=4"), 1.5), FrameStore(),
                            lambda status: failures.append(status.failure),
                            backoff=Backoff(initial=0.05, maximum=0.1))
    capture.start()
    try:
        wait_for(lambda: failures, timeout=20, what="the dripping camera faulted")
        assert "no complete frame" in failures[0]
    finally:
        capture.stop(timeout=0.1)
    wait_for(lambda: not capture._thread.is_alive(), timeout=20, what="the thread ended")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flapping_camera_writes_a_few_lines_and_a_summary_a_minute(caplog):
    """A camera flapping every second wrote ~147 lines a minute."""
    clock = _Clock()
    log = StateLog("cam", clock=clock)
    caplog.set_level(logging.INFO, "camera_service.capture.capture_thread")
    for _minute in range(3):
        for _ in range(30):  # fails and recovers every 2 s
            log.failed("camera 'cam' stopped delivering: reset")
            clock.now += 1.0
            log.recovered()
            clock.now += 1.0
    log.tick()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) <= 4 + 3, lines
    summaries = [line for line in lines if "keeps failing and recovering" in line]
    assert len(summaries) == 3 and "reset" in summaries[0]


def test_rare_changes_are_all_logged(caplog):
    clock = _Clock()
    log = StateLog("cam", clock=clock)
    caplog.set_level(logging.INFO, "camera_service.capture.capture_thread")
    for _ in range(10):
        log.failed("camera 'cam' stopped delivering: reset")
        clock.now += 300.0
        log.recovered()
        clock.now += 300.0
    assert len(caplog.records) == 20


def test_a_flapping_camera_through_the_capture_loop(server, caplog):
    """End to end: the flapping hostile camera, reopened as fast as it allows."""
    caplog.set_level(logging.INFO)
    changes = []
    capture = CaptureThread(_source(server.url("/flap?period=0.3&fps=20"), 1.0), FrameStore(),
                            lambda status: changes.append(status.failure),
                            backoff=Backoff(initial=0.01, maximum=0.02))
    capture.start()
    try:
        wait_for(lambda: len(changes) >= 16, timeout=30, what="8 flaps")
    finally:
        capture.stop()
    lines = [r for r in caplog.records if r.levelno >= logging.INFO
             and r.name.startswith("camera_service")]
    assert len(lines) <= 4 + 2, [r.getMessage() for r in lines]


def test_a_part_is_stamped_with_the_read_that_brought_its_first_byte():
    """Acquisition time = arrival of the frame's first byte (issue 24), not the end of the
    frame or when it was handed over: reads at t=1 (delimiter and header), t=2 (first body
    bytes), t=3 (the rest)."""
    head = b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: 6\r\n\r\n"
    chunks = [head, b"abc", b"def\r\n--b\r\n\r\nxyz\r\n--b--\r\n"]
    clock = _Clock()
    clock.now = 0.0

    def receive(view):
        clock.now += 1.0
        if not chunks:
            return 0
        data = chunks.pop(0)
        view[:len(data)] = data
        return len(data)
    reader = MultipartReader(receive, b"b", "cam", wall_clock=clock, clock=clock, window=60)
    assert reader.next_part() == b"abcdef" and reader.arrival == 2.0
    assert reader.next_part() == b"xyz" and reader.arrival == 3.0
    with pytest.raises(StreamError, match="ended the stream"):
        reader.next_part()


def test_limits_are_one_object():
    assert DEFAULT_LIMITS.buffer_bytes > DEFAULT_LIMITS.part_bytes


def test_a_body_of_known_length_is_waited_for_not_read_segment_by_segment():
    """The socket's low-water mark asks for the rest of the frame (capped), then 1 again
    for the next header, whose first bytes must be seen when they arrive."""
    body = bytes(range(256)) * 1200  # 300 kB
    data = b"--b\r\nContent-Length: %d\r\n\r\n%s\r\n--b\r\n\r\n" % (len(body), body)
    pieces = [data[i:i + 1448] for i in range(0, len(data), 1448)]
    marks = []

    def receive(view):  # one segment at most, like a socket read, never over len(view)
        if not pieces:
            return 0
        piece = pieces.pop(0)
        if len(piece) > len(view):
            pieces.insert(0, piece[len(view):])
            piece = piece[:len(view)]
        view[:len(piece)] = piece
        return len(piece)
    reader = MultipartReader(receive, b"b", "cam", low_water=marks.append)
    assert reader.next_part() == body
    head = data.index(body)  # the first read, HEAD_READ bytes, brought the head and more
    assert marks[0] == min(len(body) - (HEAD_READ - head), DEFAULT_LIMITS.wait_bytes)
    assert marks[-1] == 1
    assert all(later < earlier for earlier, later in zip(marks, marks[1:-1]))


@pytest.mark.parametrize("path, refused", [("/401", True), ("/403", True), ("/404", False)])
def test_a_camera_refusing_the_credentials_is_told_apart(server, path, refused):
    # refused credentials are retried slowly by the capture loop (CredentialsRefused, like a
    # refused robot login); other refusals keep the quick reopen of a camera that is away
    with pytest.raises(SourceUnavailable) as failed:
        _source(server.url(path)).open()
    assert isinstance(failed.value, CredentialsRefused) is refused
    assert "\n" not in str(failed.value)
