"""VM fixtures: one image build (cached), one booted VM and one robot simulator per session.

The VM is a small Debian bookworm with the stock kernel, booted under qemu's software
emulation; it has real V4L2 devices (vivid: a capture node plus a metadata node), udev, systemd
and a Docker engine. Scenarios run against the same VM in file order to keep time down.
Everything is skipped with the reason where qemu is absent (or the image cannot be built).
``VM_IMAGE_DIR=<folder>`` uses an image built elsewhere instead of the cache.
Measured figures are printed at the end of the session and kept in the run folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's vm/ package

from vm_support import FIGURES, keep_figures_file, record

from robot_sim.simulator import RobotSimulator
from vm.image import CACHE_ROOT, VmImage, cache_key, ensure_image
from vm.machine import Machine, default_run_dir, qemu_binary

_RUN_DIRS = []


def _skip_reason() -> str:
    if qemu_binary() is None:
        return "qemu-system-x86_64 is not installed (tools/provision.sh installs it)"
    if os.geteuid() != 0 and not VmImage(CACHE_ROOT / cache_key()).exists():
        return "building the VM image needs root (debootstrap, chroot) and none is cached"
    return ""


@pytest.fixture(scope="session")
def vm_image() -> VmImage:
    """The cached VM image for the current builder inputs (built now when absent)."""
    prebuilt = os.environ.get("VM_IMAGE_DIR")
    if prebuilt:  # an image folder built elsewhere (same layout as .cache/vm/<key>/)
        return VmImage(Path(prebuilt))
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    image = ensure_image(log=lambda line: sys.stderr.write(line + "\n"))
    record("VM image: build (cold) or cache lookup (warm)", time.monotonic() - started)
    return image


@pytest.fixture(scope="session")
def vm(vm_image) -> Iterator[Machine]:
    """The booted VM (software emulation), shared by all VM scenarios."""
    run_dir = default_run_dir()
    _RUN_DIRS.append(run_dir)
    machine = Machine(vm_image, run_dir)
    try:
        record("VM boot to ssh (tcg)", machine.start())
        yield machine
    finally:
        machine.stop()


@pytest.fixture(scope="session")
def vm_robot(tmp_path_factory) -> Iterator[RobotSimulator]:
    """The robot simulator on host loopback; the guest reaches it at 10.0.2.2:<port>."""
    robot = RobotSimulator(state_dir=tmp_path_factory.mktemp("vm_robot"), port=0).start()
    try:
        yield robot
    finally:
        robot.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the VM figures (and keep them next to the run's console log)."""
    if not FIGURES:
        return
    terminalreporter.section("VM figures (qemu tcg, 2 vCPUs)")
    for scenario, value in FIGURES:
        terminalreporter.write_line(f"{value}  {scenario}")
    for run_dir in _RUN_DIRS:
        keep_figures_file(run_dir / "figures.txt")
