"""Command line of the CORE I/O stand-in installer (see ``coreio_sim`` for the commands)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List

from coreio_sim import docker_cli
from coreio_sim.errors import InstallError
from coreio_sim.installer import install, list_installed, uninstall


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: sub-commands install, uninstall, list."""
    parser = argparse.ArgumentParser(
        prog="python -m coreio_sim",
        description="Install Spot Extensions (.spx) the way the CORE I/O portal does.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    root_help = "folder standing for the CORE I/O's file system (e.g. /tmp/coreio)"

    add = commands.add_parser("install", help="install or upgrade an extension and start it")
    add.add_argument("spx", type=Path, help="the .spx file")
    add.add_argument("--root", type=Path, required=True, help=root_help)
    add.add_argument(
        "--credentials",
        type=Path,
        help="payload credentials file to provide (GUID line 1, secret line 2)",
    )
    add.add_argument("--no-start", action="store_true", help="prepare but do not start")

    remove = commands.add_parser("uninstall", help="stop and remove an extension")
    remove.add_argument("name", help="the extension_name from its manifest")
    remove.add_argument("--root", type=Path, required=True, help=root_help)
    remove.add_argument("--keep-images", action="store_true", help="leave its images loaded")

    show = commands.add_parser("list", help="list installed extensions and their containers")
    show.add_argument("--root", type=Path, required=True, help=root_help)
    return parser


def main(argv: List[str] | None = None) -> int:
    """Run one command; print one line and return 1 on a failure."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="coreio_sim: %(message)s", stream=sys.stderr)
    try:
        if args.command == "install":
            install(args.spx, args.root, credentials=args.credentials, start=not args.no_start)
        elif args.command == "uninstall":
            uninstall(args.name, args.root, keep_images=args.keep_images)
        else:
            _print_list(args.root)
    except InstallError as exc:
        print(f"coreio_sim: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_list(root: Path) -> None:
    installed = list_installed(root)
    if not installed:
        print(f"no extensions installed under {root}")
    for item in installed:
        print(f"{item.manifest.extension_name} {item.manifest.version}  {item.extension_dir}")
        for line in docker_cli.container_states(item.project):
            print(f"    {line}")


if __name__ == "__main__":
    sys.exit(main())
