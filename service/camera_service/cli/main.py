"""Command line: every command line the SDK examples accept, plus ``--config`` and robot
overrides.

    spot-camera-service [payload|external] [HOSTNAME] [--config FILE] [--host-ip IP]
        [--port N] [--payload-credentials-file F] [--guid G --secret S]
        [--device-name D [D ...]]... [--device D] [--codec C] [--res-width W]
        [--res-height H] [--robot-ca-cert PATH] [--robot-port N] [--name NAME]
        [--authority A] [--jpeg-quality Q] [-v]

As in the examples: the mode word comes first, the hostname and the options follow in any
order (``payload --host-ip ... --device /dev/video0 ... 192.168.50.3``), long options may be
abbreviated (``--dev``, ``--host``), ``--device-name`` takes one or several values and may be
repeated, and ``-1`` as a size means the camera's default. Each device becomes the matching
kind of source, named as the example names it (``device_names``).

Flags win over the config file (``--config`` or ``$CAMERA_SERVICE_CONFIG``); any
``--device-name`` replaces the file's ``sources``. Started the examples' way - a mode word
(SDK 5) or the robot's address as an argument (SDK 2, the Data Acquisition tutorial) - the
service registers under the example's names (``migration``) unless ``--name``/``--authority``
or the file set them. An error about a value given as a flag names the flag
(``--codec MJPEG: ...``), never the config key it maps to.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import Dict, List, Optional, Sequence

from camera_service.cli import abbreviations, migration
from camera_service.cli.device_names import device_sources, looks_like_camera
from camera_service.cli.ports import port_advice
from camera_service.config import model as config_module
from camera_service.config.model import Config
from camera_service.core import allocator
from camera_service.core.errors import ConfigError
from camera_service.core.redaction import redact_url, register_secret, scrub_log_handlers

_LOG = logging.getLogger("camera_service")
MODES = ("payload", "external")
# The options of the SDK 5 example's payload/external parsers: an abbreviation that fits one
# of them and one of ours means theirs.
EXAMPLE_OPTIONS = ("--host-ip", "--port", "--device-name", "--show-debug-info", "--codec",
                   "--res-width", "--res-height", "--guid", "--secret",
                   "--payload-credentials-file", "--verbose")
MIN_SIZE, MAX_SIZE = 16, 8192
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
# Config keys a flag sets: errors about them name the flag.
_FLAG_KEYS = {"host_ip": "robot.host_ip", "payload_credentials_file":
              "robot.payload_credentials_file", "robot_ca_cert": "robot.ca_cert",
              "robot_port": "robot.port", "port": "service.port", "name": "service.name",
              "authority": "service.authority", "jpeg_quality": "service.jpeg_quality"}
_SOURCE_FLAGS = {"width": "res_width", "height": "res_height", "codec": "codec",
                 "format": "codec", "jpeg_quality": "jpeg_quality"}


class FlagError(ConfigError):
    """A command-line value is wrong; the message starts with the flag and its value."""

    def __init__(self, flag: str, problem: str) -> None:
        ValueError.__init__(self, f"{flag}: {problem}")
        self.key = flag
        self.problem = problem


def build_parser() -> argparse.ArgumentParser:
    parser = abbreviations.OneLineParser(
        prog="spot-camera-service", allow_abbrev=False,  # abbreviations: see abbreviations.py
        description="Camera image service for Spot (bosdyn.api.ImageService).")
    parser.add_argument("words", nargs="*", metavar="[payload|external] [HOSTNAME]",
                        help="optional mode word as in the SDK example, and the robot address "
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
    parser.add_argument("--device", dest="devices", action="extend", nargs="*",
                        metavar="DEVICE", help="same as --device-name")
    parser.add_argument("--device-name", dest="devices", action="extend",
                        nargs="*", metavar="DEVICE", help="camera: an index, /dev/videoN, a "
                        "stable V4L2 name, a video file, an http(s) or rtsp URL, or "
                        "synthetic[:NAME]; several values or repeated for several cameras")
    parser.add_argument("--codec", help="FOURCC asked of V4L2 cameras, e.g. MJPG")
    parser.add_argument("--res-width", type=int, help="requested width of every camera "
                        "(-1: the camera's default)")
    parser.add_argument("--res-height", type=int, help="requested height of every camera "
                        "(-1: the camera's default)")
    parser.add_argument("--robot-ca-cert", help="robot CA certificate (e.g. the simulator's)")
    parser.add_argument("--robot-port", type=int, help="robot gRPC port (default 443)")
    parser.add_argument("--name", help="directory name (default camera-image-service; "
                        f"{migration.EXAMPLE_NAME} in the examples' form)")
    parser.add_argument("--authority", help="directory authority (default camera-image-"
                        f"service; {migration.EXAMPLE_AUTHORITY} in the examples' form)")
    parser.add_argument("--jpeg-quality", type=int, help="default JPEG quality (1-100)")
    parser.add_argument("--show-debug-info", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` the way the examples' parsers would (see module doc). argparse exits 2
    on an unknown flag or a value of the wrong type; ``FlagError`` for an ambiguous prefix."""
    parser = build_parser()
    try:
        argv = abbreviations.expand(argv, parser, preferred=EXAMPLE_OPTIONS)
        args = parser.parse_intermixed_args(argv)
    except abbreviations.AbbreviationError as err:
        raise FlagError(err.prefix, err.problem) from None
    args.devices = list(args.devices or [])
    words = list(args.words)
    modes = [word for word in words if word in MODES]  # first in the examples; anywhere here
    if len(modes) > 1:
        raise FlagError("payload|external", f"give one mode word, got {' '.join(modes)}")
    args.mode = modes[0] if modes else None
    words = [word for word in words if word not in MODES]
    if not words and len(args.devices) > 1 and _is_hostname(args.devices[-1]):
        # ``--device-name /dev/video0 192.168.50.3``: the example's one-value flag, then the
        # robot's address; a device list here would otherwise swallow it.
        words.append(args.devices.pop())
    if len(words) > 1:
        raise FlagError("HOSTNAME", f"expected one robot address, got {' '.join(words)}")
    args.hostname = words[0] if words else None
    return args


def _is_hostname(token: str) -> bool:
    return bool(_HOSTNAME.match(token)) and not token.isdigit() and not looks_like_camera(token)


def _size(value: Optional[int], flag: str) -> Optional[int]:
    """A ``--res-width/--res-height`` value: -1 (the example's default) = camera default."""
    if value is None or value == -1:
        return None
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise FlagError(f"{flag} {value}", f"must be between {MIN_SIZE} and {MAX_SIZE}, or -1 "
                        "for the camera's default")
    return value


def _codec(value: Optional[str]) -> Optional[str]:
    if not value:  # the example's default is ''
        return None
    if len(value) > 4 or not value.isprintable() or " " in value.strip():
        raise FlagError(f"--codec {value}", "a FOURCC has one to four characters, e.g. MJPG "
                        "or YUYV")
    return value


def apply_flags(config: Config, args: argparse.Namespace,
                origins: Dict[str, str] | None = None) -> Config:
    """Overlay command-line flags on ``config`` (flags win) and validate the result.
    ``origins`` receives config key -> flag as typed, for error messages."""
    origins = {} if origins is None else origins
    robot, service = config.robot, config.service
    if args.mode:
        robot.mode = args.mode
    if args.hostname:
        robot.hostname = args.hostname
        origins["robot.hostname"] = f"HOSTNAME {args.hostname}"
    if args.guid is not None:
        robot.guid = args.guid
    if args.secret is not None:
        register_secret(args.secret)
        robot.secret = args.secret
    for flag, key in _FLAG_KEYS.items():
        value = getattr(args, flag)
        if value is not None:
            section, attr = key.split(".")
            setattr(robot if section == "robot" else service, attr, value)
            origins[key] = f"--{flag.replace('_', '-')} {value}"
    if args.verbose:
        config.log_level = "debug"
    width, height = _size(args.res_width, "--res-width"), _size(args.res_height, "--res-height")
    codec = _codec(args.codec)
    if args.devices:
        config.sources = device_sources(args.devices)
        for index, device in enumerate(args.devices):
            origins[f"sources[{index}]"] = f"--device-name {redact_url(device)}"
    if args.mode or args.hostname:  # the examples' form: SDK 5 (mode word), SDK 2/tutorial
        migration.apply_example_names(config, args)
    for entry in config.sources:
        settings = entry.settings
        settings.width = width or settings.width
        settings.height = height or settings.height
        if args.jpeg_quality:
            settings.jpeg_quality = args.jpeg_quality
        if codec and entry.type == "v4l2":
            settings.options.setdefault("codec", codec)
    for key, flag in _SOURCE_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            origins[f"sources.{key}"] = f"--{flag.replace('_', '-')} {value}"
    return config_module.check(config)


def describe_error(err: ConfigError, origins: Dict[str, str]) -> str:
    """The operator's line for ``err``: the flag and its value when a flag set the key."""
    if isinstance(err, FlagError):
        return str(err)
    if err.key in origins:
        return f"{origins[err.key]}: {err.problem}"
    match = re.match(r"^(sources\[\d+\])\.(\w+)$", err.key)
    if match:
        flag = origins.get(f"sources.{match.group(2)}") or origins.get(match.group(1))
        if flag:
            return f"{flag}: {err.problem}"
    return str(err)


def load_config(argv: Sequence[str], origins: Dict[str, str] | None = None) -> Config:
    """Parse ``argv`` into a validated ``Config``. Raises ``ConfigError`` (``FlagError`` for a
    flag's value); argparse exits 2 on unknown flags."""
    args = parse_args(list(argv))
    path = args.config or os.environ.get(config_module.CONFIG_ENV)
    config = config_module.load(path) if path else config_module.from_mapping(None)
    config = apply_flags(config, args, origins)
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


def main(argv: List[str] | None = None) -> int:
    """Console entry point; returns the exit status (2 = bad configuration)."""
    allocator.tune()  # before any thread or image buffer exists
    from camera_service.app.service import run

    argv = sys.argv[1:] if argv is None else argv
    setup_logging("debug" if ("-v" in argv or "--verbose" in argv) else "info")
    origins: Dict[str, str] = {}
    try:
        config = load_config(argv, origins)
        setup_logging(config.log_level)
        advice = port_advice(config.service.port)
        if advice:
            _LOG.warning("%s", advice)
        loader = lambda: load_config(argv)  # noqa: E731 - reload re-applies the flags
        return run(config, loader=loader)
    except ConfigError as err:
        _LOG.error("%s", describe_error(err, origins))
        return 2


if __name__ == "__main__":
    sys.exit(main())
