"""Command line of the live viewer.

``python -m viewer --hostname ADDR [--robot-ca-cert PATH --robot-port N]
[--username U --password P | --payload-credentials-file F] [--listen HOST:PORT]``

Username and password default to ``BOSDYN_CLIENT_USERNAME`` / ``BOSDYN_CLIENT_PASSWORD``
(prefer those: a password on the command line is visible to other local users). Prints one
line with the URL to open, then serves until SIGINT or SIGTERM. Bad arguments end with one
line naming the problem and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import List, Tuple

from camera_service.cli.abbreviations import AbbreviationError, OneLineParser, reject_unknown
from camera_service.core.redaction import scrub_log_handlers
from camera_service.robot.credentials import CredentialsError
from camera_service.robot.login import (
    PASSWORD_ENV,
    USERNAME_ENV,
    Login,
    password_login_from_env,
    read_payload_login,
)
from camera_service.robot.sdk_robot import RobotTarget

from viewer.http_api import MAX_CLIP_BYTES, ViewerServer
from viewer.robot_link import ViewerConnection

DEFAULT_LISTEN = "127.0.0.1:8080"


class UsageError(ValueError):
    """A bad command-line value; the message is one line naming the fix."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m viewer",
        description="Live web viewer of a robot's image sources (GetImage JPEG polling).",
        allow_abbrev=False,
    )
    parser.add_argument("--hostname", required=True, help="robot address")
    parser.add_argument("--robot-ca-cert", type=Path, help="CA certificate of the robot "
                        "(default: the one bundled with the SDK, for a real robot)")
    parser.add_argument("--robot-port", type=int, help="robot's gRPC port (default 443)")
    parser.add_argument("--username", help="robot user (default $BOSDYN_CLIENT_USERNAME)")
    parser.add_argument("--password", help="password (default $BOSDYN_CLIENT_PASSWORD)")
    parser.add_argument("--payload-credentials-file", type=Path,
                        help="log in as a payload: file with GUID (line 1) and secret (line 2)")
    parser.add_argument("--listen", default=DEFAULT_LISTEN,
                        help=f"HOST:PORT of the web page (default {DEFAULT_LISTEN}; port 0 = any)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def parse_listen(text: str) -> Tuple[str, int]:
    """``HOST:PORT`` -> (host, port). Raises ``UsageError``."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {text!r} is not HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


def login_from_args(args: argparse.Namespace) -> Login:
    """The login the arguments ask for. Raises ``CredentialsError`` / ``UsageError``."""
    if args.payload_credentials_file is not None:
        if args.username or args.password:
            raise UsageError("give either --username/--password or --payload-credentials-file")
        return read_payload_login(args.payload_credentials_file)
    login = password_login_from_env(args.username, args.password)
    if login is None:
        raise UsageError(
            "no robot credentials: pass --username and --password (or set "
            f"{USERNAME_ENV} and {PASSWORD_ENV}), or --payload-credentials-file"
        )
    return login


def target_from_args(args: argparse.Namespace) -> RobotTarget:
    """The robot the arguments name. Raises ``UsageError``."""
    if args.robot_ca_cert is not None and not args.robot_ca_cert.is_file():
        raise UsageError(f"--robot-ca-cert {args.robot_ca_cert} is not a readable file")
    if args.robot_port is not None and not 0 < args.robot_port <= 65535:
        raise UsageError(f"--robot-port {args.robot_port} is outside 1..65535")
    ca_cert = str(args.robot_ca_cert) if args.robot_ca_cert is not None else None
    return RobotTarget(args.hostname, args.robot_port or 443, ca_cert)


def start_viewer(target: RobotTarget, login: Login, listen: Tuple[str, int],
                 max_clip_bytes: int = MAX_CLIP_BYTES) -> ViewerServer:
    """Start serving the viewer for the robot at ``target`` in background threads; tries to
    log in once right away (the outcome shows on the page). Clips over ``max_clip_bytes``
    are refused. Raises ``UsageError`` when the listen address cannot be bound."""
    link = ViewerConnection(target, login)
    try:
        server = ViewerServer(listen, link, max_clip_bytes)
    except OSError as err:
        raise UsageError(f"cannot listen on {listen[0]}:{listen[1]} ({err.strerror}); "
                         "pick another --listen address") from None
    link.connect()
    server.start()
    return server


def catch_stop_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM from now on (installed before the URL line is
    printed, so a signal sent as soon as it is read stops the viewer cleanly)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def wait_for_stop_signal(stop: threading.Event) -> None:
    """Block until ``stop`` (``catch_stop_signals``) is set."""
    while not stop.wait(0.5):
        pass


def main(argv: List[str] | None = None) -> int:
    parser = build_parser()
    try:
        reject_unknown(sys.argv[1:] if argv is None else argv, parser)  # before "required"
        args = parser.parse_args(argv)
    except AbbreviationError as err:
        print(f"viewer: error: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    scrub_log_handlers()
    try:
        server = start_viewer(target_from_args(args), login_from_args(args),
                              parse_listen(args.listen))
    except (UsageError, CredentialsError) as err:
        print(f"viewer: error: {err}", file=sys.stderr)
        return 2
    try:
        stop = catch_stop_signals()
        print(f"viewer: open {server.url} (robot {server.link.target}, "
              f"{server.link.login.describe()})", flush=True)
        wait_for_stop_signal(stop)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
