"""A fake camera showing a calibration board at moving poses through a KNOWN camera model.

Calibration can be tried and tested with no camera: the board (a chessboard, or a ChArUco
board) is rendered by ``fake_cameras.board_render`` through a pinhole + Brown-Conrady or a
Kannala-Brandt (fisheye) model at a deterministic cycle of varied poses; a calibration of
these frames should give back the model (``write_model`` stores it as OpenCV YAML to compare
with).

The defaults match ``python -m camera_service.calibrate``'s: 9x6 inner corners (10x7
squares), 25 mm squares. Frames are available as a Python iterator (``BoardCamera`` yields
grey images, cycling through the poses) and over HTTP as multipart MJPEG
(``serve``: the server of ``fake_cameras.ip_camera``, one pose per frame).

CLI (dev only)::

    python -m fake_cameras.board_camera --port 8090 --board chessboard --model pinhole \\
        --size 1280x720 --fps 5 [--fx 900 --fy 896 --cx 645 --cy 356 --k1 -0.2 ...] \\
        [--write-model truth.yaml]
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
from camera_service.geometry.calibration_file import write_calibration
from camera_service.geometry.camera_model import (
    BROWN_CONRADY,
    KANNALA_BRANDT,
    CameraModel,
    ModelError,
)

from fake_cameras.board_render import (
    BOARD_KINDS,
    CHESSBOARD,
    BoardRenderer,
    BoardSpec,
    Pose,
    board_poses,
    project,
)
from fake_cameras.ip_camera import FakeIPCamera

MODEL_KINDS = {"pinhole": BROWN_CONRADY, "fisheye": KANNALA_BRANDT}


def default_model(kind: str = "pinhole", width: int = 1280, height: int = 720) -> CameraModel:
    """A plausible camera of ``width`` x ``height``: a ~85 degree wide lens with barrel
    distortion (``pinhole``) or a ~150 degree fisheye (``fisheye``); the principal point a
    little off centre and fx != fy, so a solver that assumes either is caught."""
    cx, cy = (width - 1) / 2 + 0.004 * width, (height - 1) / 2 - 0.006 * height
    if MODEL_KINDS.get(kind, kind) == KANNALA_BRANDT:
        return CameraModel(width, height, 0.33 * width, 0.3315 * width, cx, cy, KANNALA_BRANDT,
                           (0.03, -0.012, 0.004, -0.0008))
    return CameraModel(width, height, 0.7 * width, 0.697 * width, cx, cy, BROWN_CONRADY,
                       (-0.18, 0.06, 0.0007, -0.0004, -0.008))


class BoardCamera:
    """Frames of ``board`` seen by a camera of ``model`` at ``len(poses)`` poses, cycled.

    ``frame(i)`` is the grey ``height x width`` image of pose ``i % len(poses)`` (rendered
    once, then kept); iterating yields ``frame(0), frame(1), ...`` without end.
    ``corners(i)`` are where the board's inner corners truly are in that frame.
    """

    def __init__(self, model: Optional[CameraModel] = None, board: Optional[BoardSpec] = None,
                 poses: int = 24, seed: int = 7, supersample: int = 2, blur: float = 0.5,
                 noise: float = 0.0) -> None:
        self.model = model or default_model()
        self.board = board or BoardSpec()
        self.poses: List[Pose] = board_poses(self.model, self.board, poses, seed)
        self._renderer = BoardRenderer(self.model, self.board, supersample, blur=blur,
                                       noise=noise)
        self._frames: Dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[np.ndarray]:
        index = 0
        while True:
            yield self.frame(index)
            index += 1

    def pose(self, index: int) -> Pose:
        """(rvec, tvec) of frame ``index``: board frame -> camera frame."""
        return self.poses[index % len(self.poses)]

    def frame(self, index: int) -> np.ndarray:
        """The grey image of frame ``index``."""
        key = index % len(self.poses)
        with self._lock:
            image = self._frames.get(key)
            if image is None:
                image = self._renderer.render(self.poses[key], noise_seed=key)
                self._frames[key] = image
        return image

    def corners(self, index: int) -> np.ndarray:
        """True image positions of the inner corners in frame ``index`` (N x 2, row by row)."""
        return project(self.model, self.board.inner_corners(), self.pose(index))

    def write_model(self, path: str) -> None:
        """Store the camera model as the OpenCV YAML calibration file the service reads."""
        write_calibration(path, self.model)

    def serve(self, port: int = 0, host: str = "127.0.0.1", fps: float = 5.0,
              quality: int = 95) -> FakeIPCamera:
        """An HTTP MJPEG camera (not started) sending frame 0, 1, ... one per tick."""
        return FakeIPCamera(self.model.width, self.model.height, fps, quality, port, host,
                            history=2 * len(self.poses),
                            render=lambda sequence: cv2.cvtColor(self.frame(sequence - 1),
                                                                 cv2.COLOR_GRAY2BGR))

    def describe_board(self) -> str:
        """One line: the board and the calibrate flags that match it."""
        return (f"{self.board.kind} {self.board.columns}x{self.board.rows} inner corners, "
                f"{self.board.square:g} m squares (calibrate with --board "
                f"{self.board.columns}x{self.board.rows} --square {self.board.square:g})")


# -- command line ------------------------------------------------------------------------
def _size(text: str) -> Tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not match or min(int(match[1]), int(match[2])) < 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (at least 64x64), "
                                         "e.g. 1280x720")
    return int(match[1]), int(match[2])


def _corners(text: str) -> Tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not match or min(int(match[1]), int(match[2])) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMNSxROWS of inner corners, "
                                         "e.g. 9x6")
    return int(match[1]), int(match[2])


def model_from_args(args: argparse.Namespace) -> CameraModel:
    """The camera model the flags describe (defaults: ``default_model``); raises
    ``ModelError`` or ``ValueError`` with one line."""
    width, height = args.size
    base = default_model(args.model, width, height)
    names = ("k1", "k2", "p1", "p2", "k3") if base.model == BROWN_CONRADY else \
        ("k1", "k2", "k3", "k4")
    for name in {"p1", "p2", "k4"} - set(names):
        if getattr(args, name) is not None:
            raise ValueError(f"--{name} is not a coefficient of the {args.model} model "
                             f"(it takes {', '.join(names)})")
    coefficients = tuple(getattr(args, n) if getattr(args, n) is not None else default
                         for n, default in zip(names, base.coefficients))
    pick = {n: getattr(args, n) if getattr(args, n) is not None else getattr(base, n)
            for n in ("fx", "fy", "cx", "cy")}
    return CameraModel(width, height, model=base.model, coefficients=coefficients, **pick)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m fake_cameras.board_camera",
        description="Serve a calibration board seen through a known camera model as HTTP "
                    "MJPEG on loopback.")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--board", choices=BOARD_KINDS, default=CHESSBOARD)
    parser.add_argument("--corners", type=_corners, default=(9, 6),
                        help="inner corners COLUMNSxROWS (default 9x6, as the calibrate tool)")
    parser.add_argument("--square", type=float, default=0.025, help="square size, metres")
    parser.add_argument("--model", choices=sorted(MODEL_KINDS), default="pinhole",
                        help="pinhole (Brown-Conrady distortion) or fisheye (Kannala-Brandt)")
    parser.add_argument("--size", type=_size, default=(1280, 720), help="WIDTHxHEIGHT")
    for name in ("fx", "fy", "cx", "cy"):
        parser.add_argument(f"--{name}", type=float, help="pixels (default: a typical lens)")
    for name in ("k1", "k2", "p1", "p2", "k3", "k4"):
        parser.add_argument(f"--{name}", type=float,
                            help="distortion coefficient (pinhole: k1 k2 p1 p2 k3; fisheye: "
                                 "k1..k4)" if name == "k1" else argparse.SUPPRESS)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--poses", type=int, default=24, help="poses in the cycle")
    parser.add_argument("--seed", type=int, default=7, help="seed of the pose sequence")
    parser.add_argument("--noise", type=float, default=0.0, help="sensor noise, grey levels")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100")
    parser.add_argument("--write-model", metavar="FILE",
                        help="also write the camera model as an OpenCV YAML calibration file")
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("--host must be a loopback address (127.x.x.x)")
    if args.fps <= 0 or args.poses < 1 or args.square <= 0:
        parser.error("--fps and --square must be positive and --poses at least 1")
    try:
        args.camera_model = model_from_args(args)
    except (ModelError, ValueError) as err:
        parser.error(str(err))
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    board = BoardSpec(args.board, args.corners[0], args.corners[1], args.square)
    try:
        camera = BoardCamera(args.camera_model, board, args.poses, args.seed, noise=args.noise)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.write_model:
        try:
            camera.write_model(args.write_model)
        except OSError as err:
            print(f"error: cannot write {args.write_model}: {err.strerror or err}",
                  file=sys.stderr)
            return 2
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        server = camera.serve(args.port, args.host, args.fps, args.quality).start()
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror or err} "
              "(pick another --port, or 0 for a free one)", file=sys.stderr)
        return 2
    with server:
        print(f"board camera ready: {server.url} ({args.fps:g} fps, {args.poses} poses)",
              flush=True)
        print(f"model: {camera.model.describe()}", flush=True)
        print(f"board: {camera.describe_board()}", flush=True)
        if args.write_model:
            print(f"model written to {args.write_model}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
