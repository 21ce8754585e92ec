"""Try one V4L2 camera the way the service would, and print what it grants.

    python -m camera_service.sources.v4l2.probe /dev/v4l/by-id/usb-...-video-index0 \\
        --width 1280 --height 720 --fps 30 --frames 60

Prints the negotiated format, size and rate, the controls with their ranges, and the rate
and frame sizes actually measured. Exits 0 when frames arrived, 1 with a one-line reason
otherwise. For integrators choosing settings, and for checks on real hardware or a VM.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

from camera_service.core.errors import ConfigError, SourceError, SourceUnavailable
from camera_service.sources.base import Control, SourceSettings
from camera_service.sources.v4l2.source import V4L2Source


def describe_control(control: Control) -> str:
    if control.kind == "menu":
        detail = " | ".join(control.choices)
    elif control.kind == "bool":
        detail = "true/false"
    else:
        detail = f"{control.minimum:g}..{control.maximum:g}" if control.minimum is not None \
            else "range unknown"
    return f"  {control.name} = {control.value!r} (default {control.default!r}; {detail})"


def probe(source: V4L2Source, frames: int) -> List[str]:
    """Open, read ``frames`` frames, close; the report as lines. Raises the source's errors."""
    info = source.open()
    try:
        lines = [f"granted: {info.detail}", "controls:"]
        lines += [describe_control(c) for c in source.controls()] or ["  (none)"]
        started = time.monotonic()
        sizes = []
        for _ in range(frames):
            frame = source.read()
            data = frame.jpeg if frame.jpeg is not None else frame.pixels
            sizes.append(len(data) if isinstance(data, bytes) else getattr(data, "nbytes", 0))
        elapsed = max(time.monotonic() - started, 1e-6)
        kind = ("JPEG bytes" if info.native_jpeg else
                "16-bit values" if info.sixteen_bit is not None else "decoded pixels")
        lines.append(f"read {frames} frames in {elapsed:.2f} s: {frames / elapsed:.1f} fps, "
                     f"{kind}, average {sum(sizes) // max(len(sizes), 1)} bytes")
        return lines
    finally:
        source.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_service.sources.v4l2.probe",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("device", nargs="?", default="auto",
                        help="path, index, stable name or 'auto' (default)")
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--fps", type=float)
    parser.add_argument("--format", default="auto",
                        help="FOURCC, e.g. MJPG or YUYV, or a 16-bit format: Y16, Y16_BE, Z16")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        source = V4L2Source(SourceSettings(
            "probe", width=args.width, height=args.height, fps=args.fps,
            options={"device": args.device, "format": args.format}))
        print("\n".join(probe(source, max(1, args.frames))))
    except (ConfigError, SourceUnavailable, SourceError) as err:
        print(f"probe failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
