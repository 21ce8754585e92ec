"""Boot the test VM under qemu and control it over ssh.

``Machine`` boots a ``VmImage`` on a copy-on-write overlay (the cached image itself is never
written), with:

- qemu user-mode networking: the guest reaches the host's loopback at ``10.0.2.2`` (qemu's
  internal NAT address; e.g. the robot simulator on host 127.0.0.1:P is 10.0.2.2:P inside),
  and ``forward(port)`` makes a guest port reachable at the same port on host 127.0.0.1
  (added at run time through the qemu monitor);
- two virtio-9p shares: the repository read-only at ``/mnt/repo`` and a writable transfer
  folder at ``/mnt/xfer``;
- the serial console logged to ``<run_dir>/console.log``.

Software emulation (``-accel tcg``) is the default: KVM guests hang at boot on this host's
kernel. The emulated CPU is ``max`` (every feature TCG has): numpy 2 needs x86-64-v2
(SSE4.2, POPCNT), which qemu's default ``qemu64`` model lacks. A guest reboot (``reboot()``)
is a real one: qemu resets the machine and boots the same kernel again from the same overlay.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Sequence

from vm.image import CACHE_BASE, REPO_ROOT, VmImage

GUEST_HOST_ADDRESS = "10.0.2.2"
GUEST_REPO = "/mnt/repo"
GUEST_XFER = "/mnt/xfer"
GUEST_PYTHON = "/opt/venv/bin/python"
GUEST_PYTHON_ENV = {"PYTHONPATH": f"{GUEST_REPO}/service:{GUEST_REPO}",
                    "PYTHONDONTWRITEBYTECODE": "1"}


class VmError(RuntimeError):
    """The VM failed to boot, answer or stop; the message says where to look."""


def qemu_binary() -> str | None:
    """Path of qemu-system-x86_64, or None when qemu is not installed."""
    return shutil.which("qemu-system-x86_64")


def free_port() -> int:
    """A TCP port free on host loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Machine:
    """One running VM. Use as a context manager, or call ``start()`` and ``stop()``."""

    def __init__(self, image: VmImage, run_dir: Path, memory_mb: int = 2048, cpus: int = 2,
                 accel: str = "tcg", share_repo: Path = REPO_ROOT) -> None:
        self.image = image
        self.run_dir = Path(run_dir)
        self.memory_mb = memory_mb
        self.cpus = cpus
        self.accel = accel
        self.share_repo = share_repo
        self.xfer_dir = self.run_dir / "xfer"
        self.ssh_port = 0
        self.forwards: Dict[int, int] = {}
        self._process: subprocess.Popen | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def console_log(self) -> Path:
        return self.run_dir / "console.log"

    @property
    def monitor_socket(self) -> Path:
        return self.run_dir / "monitor.sock"

    def start(self, boot_timeout: float = 300.0) -> float:
        """Boot the VM and wait until ssh answers; returns the seconds it took."""
        qemu = qemu_binary()
        if qemu is None:
            raise VmError("qemu-system-x86_64 not found; run tools/provision.sh")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.xfer_dir.mkdir(exist_ok=True)
        overlay = self.run_dir / "overlay.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        str(self.image.disk), str(overlay)], check=True)
        self.ssh_port = free_port()
        argv = [
            qemu, "-accel", self.accel, "-cpu", "max", "-smp", str(self.cpus),
            "-m", str(self.memory_mb),
            "-display", "none", "-nodefaults", "-no-user-config",
            "-serial", f"file:{self.console_log}",
            "-monitor", f"unix:{self.monitor_socket},server,nowait",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            # No AppArmor: the image has no apparmor_parser, and Docker refuses to start
            # containers when the kernel has AppArmor on but the profile cannot be loaded.
            "-append", "root=/dev/vda rw console=ttyS0 quiet apparmor=0",
            "-drive", f"file={overlay},if=virtio,format=qcow2,cache=unsafe",
            "-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            "-virtfs", f"local,path={self.share_repo},mount_tag=repo,security_model=none,"
                       "readonly=on",
            "-virtfs", f"local,path={self.xfer_dir},mount_tag=xfer,security_model=none",
            "-device", "virtio-rng-pci",
        ]
        started = time.monotonic()
        with open(self.run_dir / "qemu.log", "w") as qemu_log:
            self._process = subprocess.Popen(argv, stdout=qemu_log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        self.wait_for_ssh(boot_timeout)
        self.wait_booted(boot_timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        """Power the VM off (no guest shutdown) and delete its disk overlay and transfer files.

        The logs (console, qemu, guest logs copied back) stay in the run folder.
        """
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        (self.run_dir / "overlay.qcow2").unlink(missing_ok=True)
        shutil.rmtree(self.xfer_dir, ignore_errors=True)

    def __enter__(self) -> Machine:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- ssh ---------------------------------------------------------------------------------
    def _ssh_argv(self, connect_timeout: int = 10) -> list:
        return ["ssh", "-q", "-i", str(self.image.ssh_key), "-p", str(self.ssh_port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6",
                "root@127.0.0.1"]

    def wait_for_ssh(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise VmError(f"qemu exited during boot; see {self.run_dir / 'qemu.log'} and "
                              f"{self.console_log}")
            probe = subprocess.run([*self._ssh_argv(connect_timeout=3), "true"],
                                   stdin=subprocess.DEVNULL, capture_output=True)
            if probe.returncode == 0:
                return
            time.sleep(1)
        raise VmError(f"VM did not answer ssh within {timeout:.0f} s; see {self.console_log}")

    def wait_booted(self, timeout: float) -> None:
        """Wait until systemd finished starting the boot's units (Docker included)."""
        state = self.run("systemctl is-system-running --wait", check=False,
                         timeout=timeout).stdout.strip()
        if state not in ("running", "degraded"):
            raise VmError(f"VM boot did not finish (systemd state {state!r}); "
                          f"see {self.console_log}")

    def run(self, command: str, timeout: float = 120.0, check: bool = True,
            env: Dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run a shell command in the guest as root; returns stdout/stderr as text."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        remote = f"{prefix} {command}" if prefix else command
        result = subprocess.run([*self._ssh_argv(), remote], stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise VmError(f"guest command failed ({result.returncode}): {command}\n"
                          f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def python(self, args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run the guest venv's Python with the shared repository on its path."""
        return self.run(f"{GUEST_PYTHON} {args}", env=GUEST_PYTHON_ENV, **kwargs)

    # -- network, files, reboot --------------------------------------------------------------
    def monitor(self, command: str) -> str:
        """Send one HMP command to qemu's monitor and return its reply text."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.monitor_socket))
            sock.sendall(command.encode() + b"\n")
            time.sleep(0.3)
            sock.settimeout(0.5)
            chunks = []
            try:
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except socket.timeout:
                pass
        return b"".join(chunks).decode(errors="replace")

    def forward(self, guest_port: int, host_port: int | None = None) -> int:
        """Make guest TCP ``guest_port`` reachable at host 127.0.0.1:``host_port``.

        ``host_port`` defaults to ``guest_port``, so an address a guest service registers
        with the robot simulator as ``127.0.0.1:<port>`` works from the host.
        """
        host_port = guest_port if host_port is None else host_port
        if self.forwards.get(host_port) == guest_port:
            return host_port
        reply = self.monitor(f"hostfwd_add tcp:127.0.0.1:{host_port}-:{guest_port}")
        if "could not" in reply.lower() or "error" in reply.lower():
            raise VmError(f"cannot forward host port {host_port} to the VM: {reply.strip()}")
        self.forwards[host_port] = guest_port
        return host_port

    def share(self, path: Path, name: str | None = None) -> str:
        """Copy a host file into the transfer share; returns its path inside the guest."""
        name = name or Path(path).name
        shutil.copyfile(path, self.xfer_dir / name)
        return f"{GUEST_XFER}/{name}"

    def reboot(self, timeout: float = 300.0) -> float:
        """Reboot the guest for real and wait for ssh again; returns the seconds it took."""
        boot_id = self.run("cat /proc/sys/kernel/random/boot_id").stdout.strip()
        started = time.monotonic()
        # Detached, so the ssh session returns before the guest tears its network down.
        self.run("nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &", timeout=30)
        deadline = started + timeout
        while time.monotonic() < deadline:
            time.sleep(2)
            try:
                self.wait_for_ssh(max(1.0, deadline - time.monotonic()))
                now = self.run("cat /proc/sys/kernel/random/boot_id", check=False, timeout=30)
            except (VmError, subprocess.TimeoutExpired):
                continue
            if now.returncode == 0 and now.stdout.strip() not in ("", boot_id):
                self.wait_booted(max(1.0, deadline - time.monotonic()))
                return time.monotonic() - started
        raise VmError(f"VM did not come back from reboot within {timeout:.0f} s; "
                      f"see {self.console_log}")


def default_run_dir(keep: int = 5) -> Path:
    """A fresh folder for one VM run under ``.cache/vm-runs`` (the ``keep`` newest stay)."""
    base = CACHE_BASE / "vm-runs"
    base.mkdir(parents=True, exist_ok=True)
    for old in sorted(base.iterdir(), key=lambda p: p.stat().st_mtime)[:-keep or None]:
        shutil.rmtree(old, ignore_errors=True)
    path = base / f"run-{os.getpid()}-{int(time.time())}"
    path.mkdir()
    return path


def argv_to_command(argv: Sequence[str]) -> str:
    """Quote an argv list for ``Machine.run``."""
    return " ".join(shlex.quote(a) for a in argv)
