"""Glass-to-client latency: answers are kept with their frames, stamps read from the JPEGs
the clients received (a frame without one is counted unreadable, never a wrong figure), and
the figures and the BENCHMARKS.md section come out of them."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2
from camera_service.sources.synthetic import render_test_pattern

from bench import latency_report, tablet_report
from bench.latency import (
    Answer,
    Latency,
    LatencyResults,
    Received,
    figures,
    run_latency,
    stamp_of,
)
from bench.measure import Run
from bench.report import Workload
from bench.writer import write_document
from fake_cameras.time_stamp import draw_stamp
from robot_sim import RobotSimulatorProcess

STAMP_US = 1_796_000_000_000_000


def _jpeg(image, quality=75) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def _response(seconds, nanos, data, status=image_pb2.ImageResponse.STATUS_OK):
    response = image_pb2.ImageResponse(status=status)
    response.shot.acquisition_time.seconds, response.shot.acquisition_time.nanos = seconds, nanos
    response.shot.image.data = data
    return response


def test_the_stamp_is_read_from_the_jpeg_a_client_receives_resized_or_not():
    picture = draw_stamp(render_test_pattern(1280, 720, 0, 0.0), STAMP_US)
    assert stamp_of(_jpeg(picture)) == STAMP_US
    half = cv2.resize(cv2.imdecode(np.frombuffer(_jpeg(picture, 90), np.uint8), cv2.IMREAD_COLOR),
                      (640, 360), interpolation=cv2.INTER_AREA)
    assert stamp_of(_jpeg(half)) == STAMP_US


def test_a_jpeg_without_a_stamp_or_not_a_jpeg_has_no_stamp():
    assert stamp_of(_jpeg(render_test_pattern(1280, 720, 0, 0.0))) is None
    assert stamp_of(b"\xff\xd8 not a picture") is None
    assert stamp_of(b"") is None


def test_answers_are_kept_with_one_copy_of_each_frame_and_failures_left_out():
    received = Received()
    received.add(_response(10, 5, b"frame-a"), 10.020)
    received.add(_response(10, 5, b"frame-a"), 10.040)
    received.add(_response(10, 40, b"frame-b!"), 10.050)
    received.add(_response(0, 0, b"", image_pb2.ImageResponse.STATUS_IMAGE_DATA_ERROR), 10.06)
    assert [a.frame for a in received.answers] == [(10, 5, 7), (10, 5, 7), (10, 40, 8)]
    assert received.jpegs == {(10, 5, 7): b"frame-a", (10, 40, 8): b"frame-b!"}
    received.clear()
    assert not received.answers and not received.jpegs


def test_figures_from_receive_times_and_the_stamps_in_the_frames():
    a, b, c = (100, 2_000_000, 1), (100, 35_000_000, 1), (100, 70_000_000, 1)
    stamps = {a: 100_000_000, b: 100_033_000, c: None}  # c: its stamp did not read
    answers = [Answer(a, 100.010), Answer(a, 100.030), Answer(b, 100.043),
               Answer(b, 100.053), Answer(c, 100.080)]
    run = figures(answers, stamps, errors=2)
    assert (run.answers, run.frames, run.unreadable, run.errors) == (5, 3, 1, 2)
    assert run.p50_ms == pytest.approx(20.0) and run.p95_ms == pytest.approx(30.0)
    assert run.first_p50_ms == pytest.approx(10.0)  # 10 ms for a, 10 ms for b
    assert run.acquisition_p50_ms == pytest.approx(2.0)  # 2 ms after each stamp


def _results(p50_tablet, p50_saturation):
    def load(p50):
        return Latency(60, 30, 0, 0, p50, p50 + 10, 5.0, 9.0, 1.0, 2.0)

    return LatencyResults({"tablet": load(p50_tablet), "saturation": load(p50_saturation)},
                          "90 stamped frames, 0 handed over late", repeats=3, seconds=3.0)


def test_verdicts_hold_each_load_to_its_bound():
    verdicts = {what: ok for what, _, _, ok in _results(25.0, 55.0).verdicts()}
    assert verdicts == {"tablet: glass-to-client p50 (ms)": True,
                        "saturation: glass-to-client p50 (ms)": False}


def test_the_section_sits_after_the_tablet_section_and_a_full_run_keeps_it(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    tablet = f"{tablet_report.START}\n## Tablet\n{tablet_report.END}"
    path.write_text(f"# Benchmarks\n\n{tablet}\n\n## Summary\n\nmatrix\n", encoding="utf-8")
    text = latency_report.section(_results(25.0, 55.0), "python -m bench")
    tablet_report.write_section(path, text, latency_report.START, latency_report.END,
                                after=tablet_report.END)
    written = path.read_text(encoding="utf-8")
    assert written.index(tablet_report.END) < written.index(latency_report.START)
    assert written.index(latency_report.END) < written.index("## Summary")
    assert "| NO " in text and "0 handed over late" in text
    run = Run(2.0, 30.0, 1.0, 2.0, 3.0, 0.5, 100.0, 0.0, 0)
    workload = Workload("ipcam", "720p", 1, "direct")
    write_document(path, {(workload, "ours"): run, (workload, "baseline"): run},
                   "python -m bench", argparse.Namespace(repeats=1, seconds=1.0))
    rewritten = path.read_text(encoding="utf-8")
    assert rewritten.count(text) == 1 and rewritten.count(tablet) == 1
    assert rewritten.index(tablet) < rewritten.index(text) < rewritten.index("## Summary")


@pytest.mark.slow
def test_a_short_run_reads_the_time_of_every_frame_the_clients_received(tmp_path):
    lines = []
    with RobotSimulatorProcess(state_dir=tmp_path / "sim",
                               extra_args=["--clock-skew", "0"]) as sim:
        results = run_latency(sim, seconds=1.0, repeats=1, log=lines.append)
    for name in ("tablet", "saturation"):
        run = results.loads[name]
        assert run.answers > 0 and run.frames > 0 and run.errors == 0
        assert run.unreadable == 0  # every JPEG a client got carried a readable time
        assert run.first_p50_ms > 0  # no frame reached a client before it was sent
    assert "stamped frames" in results.camera
    assert any("tablet:" in line and "glass-to-client p50" in line for line in lines)
