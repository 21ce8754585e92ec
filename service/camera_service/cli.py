"""Command line: the SDK example's flags unchanged, plus ``--config`` and robot overrides.

    spot-camera-service [payload|external] [HOSTNAME] [--config FILE] [--host-ip IP]
        [--port N] [--payload-credentials-file F] [--guid G --secret S]
        [--device-name D ...] [--device D ...] [--codec C] [--res-width W] [--res-height H]
        [--robot-ca-cert PATH] [--robot-port N] [--name NAME] [--authority A]
        [--jpeg-quality Q] [-v]

Flags win over the config file (``--config`` or ``$CAMERA_SERVICE_CONFIG``). Giving any
``--device-name``/``--device`` replaces the config's ``sources``: each becomes a V4L2 source
named like the SDK example names it (``/dev/video0`` and ``0`` -> ``video0``), except
``synthetic`` or ``synthetic:NAME``, which give a synthetic test-pattern camera.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Sequence

from camera_service import config as config_module
from camera_service.config import Config, SourceConfig
from camera_service.errors import ConfigError
from camera_service.redaction import scrub_log_handlers
from camera_service.sources.base import SourceSettings

_LOG = logging.getLogger("camera_service")
MODES = ("payload", "external")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spot-camera-service", allow_abbrev=False,
        description="Camera image service for Spot (bosdyn.api.ImageService).")
    parser.add_argument("words", nargs="*", metavar="[payload|external] [HOSTNAME]",
                        help="optional mode word as in the SDK example, then the robot address "
                        f"(default {config_module.DEFAULT_ROBOT})")
    parser.add_argument("--config", help=f"YAML config file (default ${config_module.CONFIG_ENV})")
    parser.add_argument("--host-ip", help="address the robot reaches this service at "
                        "(default: this host's address on the route to the robot)")
    parser.add_argument("--port", type=int, help="port to serve on "
                        f"(default {config_module.DEFAULT_PORT}; CORE I/O allows 21000-22000)")
    parser.add_argument("--payload-credentials-file", help="GUID/secret file (default "
                        "/opt/payload_credentials/payload_guid_and_secret)")
    parser.add_argument("--guid", help="payload GUID (instead of the credentials file)")
    parser.add_argument("--secret", help="payload secret (instead of the credentials file)")
    parser.add_argument("--device-name", "--device", dest="devices", action="append",
                        metavar="DEVICE", help="camera: /dev/videoN, an index, a /dev/v4l/by-id "
                        "path, or synthetic[:NAME]; repeat for several")
    parser.add_argument("--codec", help="FOURCC asked of V4L2 cameras, e.g. MJPG")
    parser.add_argument("--res-width", type=int, help="requested width of every camera")
    parser.add_argument("--res-height", type=int, help="requested height of every camera")
    parser.add_argument("--robot-ca-cert", help="robot CA certificate (e.g. the simulator's)")
    parser.add_argument("--robot-port", type=int, help="robot gRPC port (default 443)")
    parser.add_argument("--name", help="directory name (default camera-image-service)")
    parser.add_argument("--authority", help="directory authority (default camera-image-service)")
    parser.add_argument("--jpeg-quality", type=int, help="default JPEG quality (1-100)")
    parser.add_argument("--show-debug-info", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def device_source(device: str, codec: str | None) -> SourceConfig:
    """A ``--device-name`` value as a source entry."""
    if device == "synthetic" or device.startswith("synthetic:"):
        name = device.partition(":")[2] or "synthetic"
        return SourceConfig("synthetic", SourceSettings(name))
    base = device.rstrip("/").rsplit("/", 1)[-1]
    name = f"video{base}" if base.isdigit() else base
    options = {"device": int(device) if device.isdigit() else device}
    if codec:
        options["codec"] = codec
    return SourceConfig("v4l2", SourceSettings(name, options=options))


def apply_flags(config: Config, args: argparse.Namespace) -> Config:
    """Overlay command-line flags on ``config`` (flags win) and validate the result."""
    words = list(args.words)
    if words and words[0] in MODES:
        config.robot.mode = words.pop(0)
    if len(words) > 1:
        raise ConfigError("HOSTNAME", f"expected one robot address, got {' '.join(words)}")
    if words:
        config.robot.hostname = words[0]
    robot, service = config.robot, config.service
    for flag, section, attr in (
        ("host_ip", robot, "host_ip"), ("payload_credentials_file", robot,
                                        "payload_credentials_file"),
        ("guid", robot, "guid"), ("secret", robot, "secret"),
        ("robot_ca_cert", robot, "ca_cert"), ("robot_port", robot, "port"),
        ("port", service, "port"), ("name", service, "name"),
        ("authority", service, "authority"), ("jpeg_quality", service, "jpeg_quality"),
    ):
        value = getattr(args, flag)
        if value is not None:
            setattr(section, attr, value)
    if args.verbose:
        config.log_level = "debug"
    if args.devices:
        config.sources = [device_source(device, args.codec) for device in args.devices]
    for entry in config.sources:
        if args.res_width:
            entry.settings.width = args.res_width
        if args.res_height:
            entry.settings.height = args.res_height
        if args.jpeg_quality:
            entry.settings.jpeg_quality = args.jpeg_quality
        if args.codec and entry.type == "v4l2":
            entry.settings.options.setdefault("codec", args.codec)
    return config_module.check(config)


def load_config(argv: Sequence[str]) -> Config:
    """Parse ``argv`` into a validated ``Config``. Raises ``ConfigError``; argparse exits 2 on
    unknown flags."""
    args = build_parser().parse_args(list(argv))
    path = args.config or os.environ.get(config_module.CONFIG_ENV)
    config = config_module.load(path) if path else config_module.from_mapping(None)
    config = apply_flags(config, args)
    if args.show_debug_info:
        _LOG.warning("--show-debug-info is not supported (no display on a CORE I/O); ignored")
    return config


def setup_logging(level: str) -> None:
    """One line per event: time, level, logger name, message."""
    logging.basicConfig(level=getattr(logging, level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    scrub_log_handlers()  # no credential reaches the log, whoever logs it
    if level != "debug":
        logging.getLogger("bosdyn").setLevel(logging.WARNING)


def main(argv: List[str] | None = None, build=None) -> int:
    """Console entry point; returns the exit status (2 = bad configuration). ``build`` makes
    the service from the config (default: ``CameraService``; the benchmark's baseline
    passes its own)."""
    # gRPC's C core logs connection events (e.g. the robot going away) on stderr in its own
    # format; our log already reports what matters, once. Must be set before gRPC starts.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    # Likewise OpenCV prints a WARN line on every failed reopen of an absent camera; the
    # capture loop logs such a failure once. Must be set before cv2 is imported.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    from camera_service.app import run

    argv = sys.argv[1:] if argv is None else argv
    setup_logging("debug" if ("-v" in argv or "--verbose" in argv) else "info")
    try:
        config = load_config(argv)
        setup_logging(config.log_level)
        return run(config) if build is None else run(config, build)
    except ConfigError as err:
        _LOG.error("%s", err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
