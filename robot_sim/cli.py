"""Command line: serve the simulator, run an SDK program against it, or control it.

    python -m robot_sim --state-dir DIR [--port N] [--bind ADDR] [--address ADDR] ...
    python -m robot_sim exec --state-dir DIR -- COMMAND ARGS...
    python -m robot_sim ctl --state-dir DIR reboot|refuse|latency [--service S]|dir|faults|
        payload-pose ...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import List

from robot_sim.handle import PAYLOAD_CREDENTIALS_FILE, ROBOT_JSON

SDK_REDIRECT_DIR = Path(__file__).resolve().parent / "sdk_redirect"


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m robot_sim",
        description="Serve a simulated Spot robot (bosdyn gRPC API over TLS). Subcommands: "
                    "'exec' runs an SDK program against it, 'ctl' triggers life events.")
    parser.add_argument("--state-dir", required=True, type=Path,
                        help="folder for robot.json, the CA and the payload credentials")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = pick a free one)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--address", default=None,
                        help="address clients should use (written to robot.json; "
                             "default: --bind, or 127.0.0.1 when binding 0.0.0.0)")
    parser.add_argument("--username", default="user")
    parser.add_argument("--password", default=None, help="default: a random one")
    parser.add_argument("--clock-skew", type=float, default=None,
                        help="robot clock minus local clock, seconds (default 3.25)")
    parser.add_argument("--refuse-at-start", type=float, default=0.0, metavar="SECONDS",
                        help="refuse connections for SECONDS after start (robot not up yet "
                             "when the CORE I/O boots)")
    parser.add_argument("--daq-timeout", type=float, default=None, metavar="SECONDS",
                        help="Data Acquisition's default time-out (default 30, as the robot)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def serve(argv: List[str]) -> int:
    """Run the simulator until SIGINT/SIGTERM; SIGHUP reboots it."""
    args = _serve_parser().parse_args(argv)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s robot_sim %(levelname)s %(message)s")
    from robot_sim.clock import DEFAULT_SKEW_SECONDS
    from robot_sim.control import ControlServer
    from robot_sim.server import PortInUseError
    from robot_sim.services.data_acquisition import DEFAULT_TIMEOUT_SECONDS
    from robot_sim.simulator import RobotSimulator

    skew = DEFAULT_SKEW_SECONDS if args.clock_skew is None else args.clock_skew
    daq_timeout = DEFAULT_TIMEOUT_SECONDS if args.daq_timeout is None else args.daq_timeout
    simulator = RobotSimulator(args.state_dir, port=args.port, bind=args.bind,
                               address=args.address, username=args.username,
                               password=args.password, clock_skew_seconds=skew,
                               daq_timeout_seconds=daq_timeout)
    try:
        simulator.start()
    except (PortInUseError, OSError) as exc:
        print(f"robot_sim: error: {exc}", file=sys.stderr)
        return 2
    if args.refuse_at_start > 0:
        simulator.refuse_connections(args.refuse_at_start)
    control = ControlServer(simulator, args.state_dir)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=simulator.reboot,
                                                              daemon=True).start())
    print(f"robot_sim ready: {simulator.address}:{simulator.port} "
          f"(state in {args.state_dir / ROBOT_JSON})", flush=True)
    while not done.wait(1):
        pass
    control.close()
    simulator.stop()
    return 0


def _read_facts(state_dir: Path) -> dict:
    path = state_dir / ROBOT_JSON
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"robot_sim: error: cannot read {path} ({exc.__class__.__name__}); "
                         "start the simulator first: python -m robot_sim --state-dir "
                         f"{state_dir}") from None


def exec_sdk_program(argv: List[str]) -> int:
    """Replace this process by COMMAND with the SDK redirected to the simulator."""
    parser = argparse.ArgumentParser(
        prog="python -m robot_sim exec",
        description="Run an unmodified bosdyn-client program against the running simulator; "
                    "pass robot.json's address as the robot hostname.")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --, e.g. -- python -m bosdyn.client HOST dir list")
    facts = _read_facts(args.state_dir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SDK_REDIRECT_DIR), *filter(None, [env.get("PYTHONPATH")])])
    env["ROBOT_SIM_CA_CERT"] = facts["ca_cert"]
    env["ROBOT_SIM_PORT"] = str(facts["port"])
    env["ROBOT_SIM_REST_PORT"] = str(facts.get("rest_port", ""))
    env["BOSDYN_CLIENT_USERNAME"] = facts["username"]
    env["BOSDYN_CLIENT_PASSWORD"] = facts["password"]
    try:
        os.execvpe(command[0], command, env)
    except OSError as exc:
        print(f"robot_sim: error: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached


def control(argv: List[str]) -> int:
    """Trigger a life event in, or query, a running simulator process."""
    parser = argparse.ArgumentParser(prog="python -m robot_sim ctl",
                                     description="Control a running simulator.")
    parser.add_argument("--state-dir", required=True, type=Path)
    sub = parser.add_subparsers(dest="action", required=True)
    reboot = sub.add_parser("reboot", help="simulated reboot")
    reboot.add_argument("--down", type=float, default=1.0, help="seconds down")
    reboot.add_argument("--invalidate-tokens", action="store_true")
    sub.add_parser("refuse", help="refuse connections").add_argument("seconds", type=float)
    latency = sub.add_parser("latency", help="add latency to every call (or one service's)")
    latency.add_argument("seconds", type=float)
    latency.add_argument("--service", help="only this gRPC service, e.g. "
                         "bosdyn.api.TimeSyncService")
    sub.add_parser("dir", help="list the directory")
    sub.add_parser("faults", help="list active service faults")
    pose = sub.add_parser("payload-pose", help="place the payload on the body (as in the "
                          "admin console)")
    pose.add_argument("xyz", type=float, nargs=3, metavar="M", help="x y z in metres")
    pose.add_argument("--quaternion", type=float, nargs=4, default=[1.0, 0.0, 0.0, 0.0],
                      metavar="Q", help="w x y z (default identity)")
    pose.add_argument("--guid", help="payload GUID (default: the simulator's own payload)")
    args = parser.parse_args(argv)
    from robot_sim.control import ControlClient, ControlError

    try:
        client = ControlClient(args.state_dir)
        if args.action == "reboot":
            client.call("reboot", down_seconds=args.down, invalidate_tokens=args.invalidate_tokens)
        elif args.action == "refuse":
            client.call("refuse_connections", seconds=args.seconds)
        elif args.action == "latency":
            client.call("set_latency", seconds=args.seconds, service=args.service)
        elif args.action == "payload-pose":
            guid = args.guid or (args.state_dir / PAYLOAD_CREDENTIALS_FILE).read_text(
            ).splitlines()[0].strip()
            client.call("set_payload_pose", guid=guid, xyz=args.xyz, quaternion=args.quaternion)
        elif args.action == "dir":
            for entry in client.directory_entries():
                print(f"{entry.name:32} {entry.type:45} {entry.authority}")
        else:
            for fault in client.active_faults():
                print(f"{fault.fault_id.service_name:32} {fault.fault_id.fault_name:32} "
                      f"{fault.error_message}")
    except (OSError, ValueError, ControlError) as exc:
        print(f"robot_sim: error: {exc} (is the simulator running with --state-dir "
              f"{args.state_dir}?)", file=sys.stderr)
        return 1
    return 0


def main(argv: List[str] | None = None) -> int:
    """Entry point of ``python -m robot_sim`` and the ``robot-sim`` script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exec"]:
        return exec_sdk_program(argv[1:])
    if argv[:1] == ["ctl"]:
        return control(argv[1:])
    return serve(argv)
