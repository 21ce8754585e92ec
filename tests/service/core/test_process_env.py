"""The process environment OpenCV, FFmpeg and gRPC read: set in one module, once, before
they load, and never changed while capture threads run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import camera_service
import pytest
from camera_service.core import process_env
from camera_service.core.errors import ConfigError
from camera_service.sources import create_source
from camera_service.sources.base import SourceSettings
from camera_service.sources.url import rtsp_transport_of

PACKAGE = Path(camera_service.__file__).parent


def test_defaults_are_set_on_the_first_import_and_a_given_value_wins():
    env = {k: v for k, v in os.environ.items() if k not in process_env.DEFAULTS}
    env["OPENCV_LOG_LEVEL"] = "DEBUG"  # the operator's own choice
    script = ("import os, sys, camera_service.sources.v4l2.source, camera_service.sources.url;"
              "print(sorted(m for m in ('cv2', 'grpc') if m in sys.modules));"
              "print(os.environ['GRPC_VERBOSITY'], os.environ['OPENCV_LOG_LEVEL'],"
              " os.environ['OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT'])")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[0] == "['cv2']"  # loaded by the sources, after the package set the defaults
    assert out[1] == "ERROR DEBUG 2"


def _writes_environment(node: ast.AST) -> bool:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        return any(isinstance(t, ast.Subscript) and ast.unparse(t.value) == "os.environ"
                   for t in targets)
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return name in ("os.putenv", "os.unsetenv") or (name.startswith("os.environ.") and \
            name.split(".")[-1] in ("setdefault", "pop", "update", "clear", "popitem"))
    return False


def test_only_process_env_writes_the_environment():
    writers = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if any(_writes_environment(n) for n in ast.walk(ast.parse(path.read_text()))))
    assert writers == ["core/process_env.py"]


def _url(name, transport=None):
    options = {"url": "rtsp://cam/stream"}
    if transport:
        options["rtsp_transport"] = transport
    return create_source("url", SourceSettings(name, options=options))


def test_one_rtsp_transport_per_process(monkeypatch):
    monkeypatch.delenv(process_env.FFMPEG_OPTIONS, raising=False)
    synthetic = create_source("synthetic", SourceSettings("s"))
    assert rtsp_transport_of([synthetic]) == "tcp"
    assert rtsp_transport_of([_url("a", "udp"), _url("b", "udp"), synthetic]) == "udp"
    with pytest.raises(ConfigError, match="every url source must use the same"):
        rtsp_transport_of([_url("a", "udp"), _url("b")])
    process_env.set_rtsp_transport("udp")
    assert os.environ[process_env.FFMPEG_OPTIONS] == "rtsp_transport;udp"
