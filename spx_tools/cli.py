"""Command line of build_extension.py: build, check, base-image.

Every failure the user can fix is printed as one `error: ...` line (exit status 2);
`check` exits 1 when it finds errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from spx_tools.errors import PackagingError
from spx_tools.progress import Progress


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="build_extension.py", description=__doc__,
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="build the image and write the .spx",
                           allow_abbrev=False)
    build.add_argument("--amd64", action="store_true",
                       help="build for linux/amd64 (development only; CORE I/O is arm64)")
    base = build.add_mutually_exclusive_group()
    base.add_argument("--base-image", default=None,
                      help="BASE_IMAGE build argument (default python:3.11-slim-bookworm)")
    base.add_argument("--local-base", action="store_true",
                      help="make (or reuse) a Debian base image with debootstrap instead of "
                           "pulling one (no registry needed)")
    build.add_argument("--python-version", default=None,
                       help="Python X.Y of the base image; decides the wheels (default 3.11, "
                            "or the local base's version)")
    build.add_argument("-o", "--output", type=Path, default=None,
                       help="the .spx to write (default dist/<name>-<version>.spx)")
    build.add_argument("--no-check", action="store_true", help="skip the final check")
    build.add_argument("--no-cache", action="store_true",
                       help="rebuild every image layer (a cold build)")
    build.add_argument("--no-docs", action="store_true",
                       help="do not write the size and time figures into docs/install.md")

    check = sub.add_parser("check", help="lint a .spx against the CORE I/O rules",
                           allow_abbrev=False)
    check.add_argument("spx", type=Path, help="the .spx file to check")
    check.add_argument("--arch", default="arm64",
                       help="expected image architecture (default arm64, the CORE I/O's)")
    check.add_argument("--no-compose-tool", action="store_true",
                       help="do not validate with docker compose / docker-compose even if present")

    base_image = sub.add_parser("base-image", help="make the local Debian base image",
                                allow_abbrev=False)
    base_image.add_argument("--arch", default="arm64", choices=("arm64", "amd64"))
    base_image.add_argument("--mirror", default=None,
                            help="Debian mirror (default: the one apt uses here)")
    base_image.add_argument("--force", action="store_true", help="rebuild even if cached")
    return parser


def _cmd_base_image(args: argparse.Namespace) -> int:
    from spx_tools.base_image import make_base_image
    from spx_tools.docker_engine import require_engine
    from spx_tools.emulation import ensure_emulation

    require_engine()
    progress = Progress()
    progress.info(ensure_emulation(args.arch))
    image = make_base_image(args.arch, mirror=args.mirror, progress=progress,
                            force=args.force)
    print(f"{image.tag} {image.image_id} python{image.python_version}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from spx_tools.check import check_spx
    from spx_tools.findings import print_report

    findings = check_spx(args.spx, expected_arch=args.arch,
                         use_compose_tool=not args.no_compose_tool)
    return print_report(findings, sys.stdout)


def _cmd_build(args: argparse.Namespace) -> int:
    from spx_tools.build import BuildOptions, build_spx

    options = BuildOptions(arch="amd64" if args.amd64 else "arm64",
                           base_image=args.base_image, local_base=args.local_base,
                           python_version=args.python_version, output=args.output,
                           run_check=not args.no_check, no_cache=args.no_cache)
    result = build_spx(options, Progress())
    print(result.summary())
    if not args.no_docs and options.arch == "arm64" and result.check_passed:
        from spx_tools.size_doc import DOC, write_figures

        if write_figures(result, options):
            print(f"  figures written into {DOC.relative_to(DOC.parents[1])}")
    return 0 if result.check_passed else 1


COMMANDS = {"build": _cmd_build, "check": _cmd_check, "base-image": _cmd_base_image}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except PackagingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
