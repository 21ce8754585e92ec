"""arm64 emulation for builds on x86 hosts: qemu-user-static registered in binfmt_misc.

Registration uses the host's own `update-binfmts` (Debian package binfmt-support) - never a
helper image such as tonistiigi/binfmt, so it works with no registry. The entry must carry
the F (fix-binary) flag so the interpreter is found inside containers.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from spx_tools.commands import require_tool, run
from spx_tools.errors import PackagingError

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
AARCH64_ENTRY = BINFMT_DIR / "qemu-aarch64"


def host_architecture() -> str:
    """The host's architecture in Docker's naming: 'amd64' or 'arm64' (others as reported)."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def aarch64_registered() -> bool:
    """True when binfmt_misc runs arm64 ELF binaries through qemu with the F flag."""
    try:
        text = AARCH64_ENTRY.read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1] for line in text.splitlines()
                  if line.startswith("flags:")), "")
    return text.startswith("enabled") and "F" in flags


def ensure_emulation(arch: str) -> str:
    """Make sure images of `arch` can run here; return a one-line note of what was done.

    Raises PackagingError with the fix when emulation cannot be enabled.
    """
    if arch == host_architecture():
        return f"host is {arch}: no emulation needed"
    if arch != "arm64":
        raise PackagingError(f"cannot emulate {arch} here; build for arm64 or the host's "
                             f"architecture ({host_architecture()})")
    if aarch64_registered():
        return "arm64 emulation already registered (qemu-aarch64, binfmt_misc)"
    if os.geteuid() != 0:
        raise PackagingError("arm64 emulation is not registered and this is not root; run "
                             "'sudo update-binfmts --enable qemu-aarch64' (qemu-user-static)")
    require_tool("update-binfmts", "apt-get install binfmt-support qemu-user-static")
    if not (BINFMT_DIR / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)],
                       check=False, capture_output=True)
    run(["update-binfmts", "--enable", "qemu-aarch64"], what="update-binfmts")
    if not aarch64_registered():
        raise PackagingError("qemu-aarch64 is not registered with the F flag after "
                             "update-binfmts; install qemu-user-static (static build)")
    return "enabled arm64 emulation (update-binfmts --enable qemu-aarch64)"
