"""``python -m camera_service.calibrate``: chessboard / ChArUco calibration with terminal
guidance.

    python -m camera_service.calibrate --source front --output /data/front.yaml
        (--robot HOST [--robot-port N] [--ca-cert F] [--image-service NAME]
         | --service HOST:PORT | --config FILE | --url URL)
        [--pattern chessboard|charuco] [--board 9x6] [--square 0.025] [--views 15]
        [--model pinhole_brown_conrady] [--min-move 15] [--timeout 300]

Frames come from the running service through the robot (SDK ImageClient; login from
``BOSDYN_CLIENT_USERNAME``/``BOSDYN_CLIENT_PASSWORD``), from the service's own port,
straight from the camera of a config (``--config``, service stopped) or from an IP camera's
URL (``--url``, no config file; ``--source`` is then only the name). Hold the board in
front of the camera and move it: each kept view prints a line with the count, the coverage
and where the board has not been yet. With enough views OpenCV calibrates; the tool prints
the reprojection error and writes the OpenCV YAML file a source's ``calibration:`` reads.

Exit status: 0 written, 1 not enough views in time or calibration failed, 2 bad arguments
or no image source.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Callable, List, Optional, TextIO

from camera_service.calibrate.frames import (
    DeviceFrames,
    FrameError,
    RobotFrames,
    ServiceFrames,
    image_size,
)
from camera_service.calibrate.solve import SolveError, solve
from camera_service.calibrate.views import CHESSBOARD, PATTERNS, Board, ViewSet
from camera_service.core.errors import ConfigError
from camera_service.geometry.calibration_file import write_calibration
from camera_service.geometry.camera_model import ModelError, model_name

GOOD_RMS, BAD_RMS = 0.5, 1.0
EPILOG = """\
try it with no camera - the board-rendering fake camera (a board at a cycle of poses through
a known model; compare the result with the model it writes):
  python -m fake_cameras.board_camera --port 8090 --size 960x540 --write-model truth.yaml &
  python -m camera_service.calibrate --url http://127.0.0.1:8090/stream.mjpg \\
      --output found.yaml --views 15
  (a ChArUco board: --board charuco on the camera, --pattern charuco here)
"""
NO_BOARD_HINT_SECONDS = 3.0


def _board(text: str) -> Board:
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip().lower())
    if not match or min(int(match[1]), int(match[2])) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMNSxROWS of inner corners, "
                                         "e.g. 9x6 for a board of 10x7 squares")
    return Board(int(match[1]), int(match[2]))


def _model(text: str) -> str:
    try:
        return model_name(text)
    except ModelError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m camera_service.calibrate",
                                     description="Calibrate a camera with a chessboard or "
                                     "a ChArUco board.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--robot", metavar="HOST", help="through the robot (SDK ImageClient)")
    where.add_argument("--service", metavar="HOST:PORT", help="the service's own port")
    where.add_argument("--config", metavar="FILE", help="straight from the camera of this "
                       "service config (stop the service first)")
    where.add_argument("--url", help="an IP camera's stream URL (MJPEG/JPEG over HTTP, or "
                       "what a url source reads), opened here")
    parser.add_argument("--source", help="image source name (with --url: only a name, "
                        "default 'camera')")
    parser.add_argument("--output", required=True, help="calibration file to write (the "
                        "source's calibration: key)")
    parser.add_argument("--image-service", default="camera-image-service",
                        help="the service's directory name (with --robot)")
    parser.add_argument("--robot-port", type=int, default=443)
    parser.add_argument("--ca-cert", help="robot CA certificate (default: the SDK's)")
    parser.add_argument("--board", type=_board, default=_board("9x6"),
                        help="inner corners COLUMNSxROWS (default 9x6)")
    parser.add_argument("--square", type=float, default=0.025, help="square size, metres")
    parser.add_argument("--pattern", choices=PATTERNS, default=CHESSBOARD,
                        help="chessboard (default) or charuco (OpenCV's ChArUco, "
                        "DICT_4X4_50 markers 0.75 of a square; --board counts its inner "
                        "corners)")
    parser.add_argument("--views", type=int, default=15, help="views to collect (default 15)")
    parser.add_argument("--model", type=_model, default="pinhole_brown_conrady",
                        help="pinhole_brown_conrady (default) or kannala_brandt (fisheye)")
    parser.add_argument("--min-move", type=float, default=15.0,
                        help="pixels the board must move between kept views")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to collect")
    args = parser.parse_args(argv)
    if args.views < 5:
        parser.error("--views must be at least 5")
    if args.source is None:
        if not args.url:
            parser.error("--source is required (the image source's name)")
        args.source = "camera"
    args.board = Board(args.board.columns, args.board.rows, args.square, args.pattern)
    return args


def open_frames(args: argparse.Namespace):
    """The frame source the arguments name; raises ``FrameError``/``ConfigError``."""
    if args.robot:
        return RobotFrames(args.robot, args.source, args.image_service, args.robot_port,
                           args.ca_cert)
    if args.service:
        return ServiceFrames(args.service, args.source)
    return DeviceFrames(args.config, args.source, args.url)


def collect(frames, args: argparse.Namespace, say: Callable[[str], None],
            clock: Callable[[], float] = time.monotonic) -> ViewSet:
    """Views until ``args.views`` are kept or ``args.timeout`` passes."""
    first = frames.grab()
    views = ViewSet(args.board, image_size(first), args.min_move)
    say(f"{image_size(first)[0]}x{image_size(first)[1]} images from {frames.where}; show the "
        f"{args.board.columns}x{args.board.rows} board, move it between views, tilt it, and "
        "reach the corners of the image")
    deadline = clock() + args.timeout
    last_seen = clock()
    image = first
    while len(views.corners) < args.views and clock() < deadline:
        verdict = views.offer(image)
        if verdict == "kept":
            last_seen = clock()
            missing = views.missing()
            say(f"view {len(views.corners)}/{args.views} kept; coverage "
                f"{views.coverage():.0%} [{views.map()}]" +
                (f"; not covered yet: {', '.join(missing)}" if missing else ""))
        elif verdict == "same place":
            last_seen = clock()
        elif verdict == "size changed":
            raise FrameError("the image size changed while calibrating; keep the camera's "
                             "size fixed")
        elif clock() - last_seen > NO_BOARD_HINT_SECONDS:
            say(f"no {args.board.columns}x{args.board.rows} {args.pattern} found - show the "
                "whole board, well lit, and check --board (inner corners)")
            last_seen = clock()
        image = frames.grab()
    return views


def run(args: argparse.Namespace, out: TextIO) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        frames = open_frames(args)
    except (FrameError, ConfigError) as err:
        say(f"error: {err}")
        return 2
    try:
        views = collect(frames, args, say)
    except FrameError as err:
        say(f"error: {err}")
        return 1
    finally:
        frames.close()
    if len(views.corners) < args.views:
        say(f"error: only {len(views.corners)} of {args.views} views in {args.timeout:g} s; "
            "move the board more (or lower --views / --min-move)")
        return 1
    try:
        solution = solve(views, args.model)
    except SolveError as err:
        say(f"error: {err}")
        return 1
    quality = ("good" if solution.rms < GOOD_RMS else "usable" if solution.rms < BAD_RMS
               else "poor: blurry views, a bent board or a wrong --square/--board")
    worst = max(range(len(solution.per_view)), key=solution.per_view.__getitem__)
    say(f"reprojection error {solution.rms:.3f} px RMS ({quality}); worst view "
        f"{worst + 1}: {solution.per_view[worst]:.3f} px; coverage {views.coverage():.0%}")
    say(f"model: {solution.model.describe()}")
    try:
        write_calibration(args.output, solution.model, {
            "avg_reprojection_error": solution.rms, "views": len(views.corners)})
    except OSError as err:
        say(f"error: cannot write {args.output}: {err.strerror or err}")
        return 1
    say(f"wrote {args.output}; point the source at it: calibration: {args.output}")
    return 0


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    return run(parse_args(argv), out)


if __name__ == "__main__":
    sys.exit(main())
