"""Command line of the VM harness.

  python -m vm build            build (or find cached) the VM image, print its folder
  python -m vm boot             boot it, print the ssh command, wait for Ctrl-C
  python -m vm run -- CMD...    boot it, run one command in the guest, print its output, stop
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List

from vm.image import ImageBuildError, ensure_image
from vm.machine import Machine, VmError, argv_to_command, default_run_dir


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("build", "boot", "run"))
    parser.add_argument("command", nargs="*", help="guest command for 'run'")
    args = parser.parse_args(argv)
    try:
        image = ensure_image()
        if args.action == "build":
            print(image.directory)
            return 0
        with Machine(image, default_run_dir()) as machine:
            print(f"vm: up; ssh -i {image.ssh_key} -p {machine.ssh_port} root@127.0.0.1 "
                  f"(console: {machine.console_log})", flush=True)
            if args.action == "run":
                result = machine.run(argv_to_command(args.command), check=False, timeout=3600)
                sys.stdout.write(result.stdout)
                sys.stderr.write(result.stderr)
                return result.returncode
            try:
                while machine.is_running():
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return 0
    except (ImageBuildError, VmError) as error:
        print(f"vm: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
