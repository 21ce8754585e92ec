"""The processes a benchmark measures: the camera service and the fake IP camera.

``ServiceProcess`` runs ``python -m camera_service --config FILE`` as a child process so that
its CPU time and memory are its own: ``thread_cpu_seconds()`` (user + system per thread),
``reset_peak_rss()`` and ``peak_rss_bytes()`` (Linux ``VmHWM``), ``counters()`` (the JSON the
service logs on SIGUSR1: encodes, passthroughs, cache hits, frames per source).
``FakeCameraProcess`` runs ``python -m fake_cameras.ip_camera`` on a free loopback port,
``ClockCameraProcess`` ``python -m fake_cameras.clock_camera`` (frames showing their send time).
Every one is a ``MeasuredProcess``: ``cpu_seconds()`` is the whole process's CPU time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import grpc
import psutil
import yaml
from bosdyn.api import image_pb2, image_service_pb2_grpc

from devtools.polling import wait_for
from fake_cameras.clock_camera import SUMMARY

COUNTERS_MARK = "counters: "


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM ``process`` if it runs, SIGKILL it if still alive after ``timeout``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class MeasuredProcess:
    """A child process (``self.process``) whose CPU time the benchmark reads."""

    process: subprocess.Popen | None = None

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the whole process so far (every thread)."""
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system


class ServiceProcess(MeasuredProcess):
    """The camera service as a child process, serving on loopback ``port``.

    ``config`` is the YAML mapping (``service.port``/``bind`` are filled in); ``module`` is
    what ``python -m`` runs (``bench.baseline`` for the re-encode baseline); ``extra_args``
    are added to the command line. Every stderr line is kept in ``lines`` (for log
    assertions) while the process runs.
    """

    def __init__(self, config: Dict[str, Any], extra_args: Sequence[str] = (),
                 env: Dict[str, str] | None = None, module: str = "camera_service") -> None:
        self.port = free_port()
        config = dict(config)
        config["service"] = {**config.get("service", {}), "port": self.port,
                             "bind": "127.0.0.1"}
        self._dir = tempfile.TemporaryDirectory(prefix="bench-service-")
        self.config_path = Path(self._dir.name) / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.command = [sys.executable, "-m", module, "--config",
                        str(self.config_path), *extra_args]
        self._env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.lines: List[str] = []
        self._lines_cond = threading.Condition()

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        """Start and wait until ListImageSources answers. Raises ``RuntimeError``."""
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=self._env)
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            wait_for(self.answers, timeout, "camera service answering")
        except TimeoutError:
            self.stop()
            raise RuntimeError("camera service did not start:\n" +
                               "\n".join(self.lines[-20:])) from None
        return self

    def answers(self) -> bool:
        """True when the service answers ListImageSources (and the process is alive)."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
                image_service_pb2_grpc.ImageServiceStub(channel).ListImageSources(
                    image_pb2.ListImageSourcesRequest(), timeout=1.0)
            return True
        except grpc.RpcError:
            return False

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
        terminate(self.process, timeout)
        self._dir.cleanup()
        return self.process.returncode if self.process is not None else None

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            with self._lines_cond:
                self.lines.append(line.rstrip("\n"))
                self._lines_cond.notify_all()

    @property
    def log(self) -> str:
        with self._lines_cond:
            return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float, start: int = 0) -> str:
        """The first stderr line from index ``start`` on containing ``needle``."""
        deadline = time.monotonic() + timeout
        with self._lines_cond:
            while True:
                for line in self.lines[start:]:
                    if needle in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no log line with {needle!r} within {timeout:g} s")
                self._lines_cond.wait(remaining)

    # -- measurements -------------------------------------------------------------------
    def _ps(self) -> psutil.Process:
        assert self.process is not None
        return psutil.Process(self.process.pid)

    def thread_cpu_seconds(self) -> Dict[int, float]:
        """User + system CPU time per thread id."""
        return {t.id: t.user_time + t.system_time for t in self._ps().threads()}

    def reset_peak_rss(self) -> None:
        """Restart peak-RSS accounting (Linux: ``5`` to ``/proc/PID/clear_refs``); a no-op
        where that is not allowed."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self._ps().pid}/clear_refs").write_text("5")

    def peak_rss_bytes(self) -> int:
        """Peak resident set size since start or the last ``reset_peak_rss``."""
        for line in Path(f"/proc/{self._ps().pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return self._ps().memory_info().rss

    def counters(self, timeout: float = 5.0) -> Dict[str, Any]:
        """The pipeline counters (SIGUSR1 makes the service log them as JSON)."""
        with self._lines_cond:
            start = len(self.lines)
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)
        line = self.wait_for_line(COUNTERS_MARK, timeout, start)
        return json.loads(line.split(COUNTERS_MARK, 1)[1])


class FakeCameraProcess(MeasuredProcess):
    """``fake_cameras.ip_camera`` in a child process on a free loopback port."""

    def __init__(self, width: int, height: int, fps: float, quality: int = 90) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.command = [sys.executable, "-m", "fake_cameras.ip_camera", "--port",
                        str(self.port), "--width", str(width), "--height", str(height),
                        "--fps", str(fps), "--quality", str(quality)]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> FakeCameraProcess:
        self.process = self._popen()
        wait_for(self._listening, 20, "fake IP camera listening")
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _popen(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def __exit__(self, *exc: object) -> None:
        terminate(self.process, 5.0)


class ClockCameraProcess(FakeCameraProcess):
    """``fake_cameras.clock_camera`` in a child process on a free loopback port; once it has
    stopped, ``summary`` is its own account of its frames (how many were sent late)."""

    def __init__(self, width: int, height: int, fps: float, quality: int = 90) -> None:
        super().__init__(width, height, fps, quality)
        self.command = [sys.executable, "-m", "fake_cameras.clock_camera", "--port",
                        str(self.port), "--size", f"{width}x{height}", "--fps", str(fps),
                        "--quality", str(quality), "--realtime"]
        self.summary = "no account (the camera did not stop cleanly)"

    def _popen(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)

    def __exit__(self, *exc: object) -> None:
        terminate(self.process, 5.0)
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout.read().splitlines():
            if line.startswith(SUMMARY):
                self.summary = line[len(SUMMARY):]
        self.process.stdout.close()
