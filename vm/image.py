"""Build and cache the test VM's disk image: a small Debian bookworm shaped like a CORE I/O.

The image holds what matters here of a CORE I/O: a stock Debian kernel with V4L2 (``vivid``
loaded at boot as a capture node plus a metadata node; ``v4l2loopback`` built for that
kernel, loaded by the tests that feed it MJPEG like a UVC camera), udev, systemd, a Docker
engine with restart policies honoured at boot, the CORE I/O paths (``/opt/payload_credentials``,
``/data/.extensions``), an ssh server the harness logs into with a generated key, and a Python
venv (``/opt/venv``) with the camera service's runtime dependencies.

Everything is installed at build time on the host (``debootstrap`` + ``chroot``): the VM never
needs a package mirror. The root file system is written straight into a partition-less ext4
image (``mke2fs -d``), booted with the kernel and initrd copied out of ``/boot``.

The result is cached under ``<repo>/.cache/vm/<key>/`` where the key hashes every input of the
build (this file, the guest overlay files, the package list, the Python dependencies). A
complete build is moved into place atomically, so a half-built image is never used.
Building needs root (debootstrap, chroot) and takes a few minutes; a cached image costs nothing.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, List, Sequence

from spx_tools.base_image import apt_mirror

try:
    import tomllib
except ImportError:  # Python < 3.11: the harness runs on the host's newer Python anyway
    tomllib = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parent.parent
GUEST_FILES = Path(__file__).resolve().parent / "guest"
# $SPOT_CACHE_DIR (CI: machine-wide, reused across clones) or <repo>/.cache (gitignored).
CACHE_BASE = Path(os.environ.get("SPOT_CACHE_DIR", str(REPO_ROOT / ".cache")))
CACHE_ROOT = CACHE_BASE / "vm"
DEB_CACHE = CACHE_BASE / "vm-debs"
SUITE = "bookworm"
DISK_SIZE = "8G"

# Debian packages of the image (no recommends: debootstrap installs Depends only).
PACKAGES = (
    "systemd", "systemd-sysv", "udev", "kmod", "dbus", "linux-image-amd64", "initramfs-tools",
    "openssh-server", "iproute2", "ca-certificates", "python3", "python3-venv", "v4l-utils",
    "docker.io", "docker-compose",
    "pigz",  # dockerd decompresses `docker load` archives with unpigz when present
    # An MJPEG camera through the kernel: v4l2loopback, compiled by dkms at build time (in
    # the chroot, natively) against the image kernel's headers; the guest only loads it.
    "linux-headers-amd64", "v4l2loopback-dkms", "v4l2loopback-utils",
)
LOOPBACK_MODULE = "v4l2loopback"
GUEST_VENV = "/opt/venv"
CORE_IO_DIRS = ("/opt/payload_credentials", "/data/.extensions", "/mnt/repo", "/mnt/xfer")


class ImageBuildError(RuntimeError):
    """The image could not be built; the message names the failing step."""


@dataclasses.dataclass(frozen=True)
class VmImage:
    """A built, cached VM image: boot files plus the harness's ssh key."""

    directory: Path

    @property
    def disk(self) -> Path:
        return self.directory / "disk.raw"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def ssh_key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def build_log(self) -> Path:
        return self.directory / "build.log"

    def exists(self) -> bool:
        return all(p.is_file() for p in (self.disk, self.kernel, self.initrd, self.ssh_key))


def python_requirements() -> List[str]:
    """The service's runtime dependencies, as pyproject.toml lists them."""
    if tomllib is None:
        raise ImageBuildError("building the VM image needs Python >= 3.11 (tomllib) on the host")
    with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def _guest_files() -> List[Path]:
    return sorted(p for p in GUEST_FILES.rglob("*") if p.is_file())


def cache_key(packages: Sequence[str] = PACKAGES,
              requirements: Sequence[str] | None = None) -> str:
    """Hash of every build input; a change to any of them means a new image."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    for path in _guest_files():
        digest.update(str(path.relative_to(GUEST_FILES)).encode())
        digest.update(path.read_bytes())
    digest.update("\n".join(packages).encode())
    reqs = python_requirements() if requirements is None else requirements
    digest.update("\n".join(reqs).encode())
    return digest.hexdigest()[:16]


class _Builder:
    """One build run: every step logs to ``log`` and raises ImageBuildError on failure."""

    def __init__(self, work: Path, log: Path, mirror: str) -> None:
        self.work = work
        self.root = work / "root"
        self.log_path = log
        self.mirror = mirror

    def run(self, step: str, argv: Sequence[str], **kwargs) -> None:
        started = time.monotonic()
        with open(self.log_path, "a") as log:
            log.write(f"\n=== {step}: {' '.join(argv)}\n")
            log.flush()
            result = subprocess.run(list(argv), stdout=log, stderr=subprocess.STDOUT, **kwargs)
            seconds = time.monotonic() - started
            log.write(f"=== {step}: exit {result.returncode} in {seconds:.1f} s\n")
        if result.returncode != 0:
            raise ImageBuildError(f"VM image build step '{step}' failed; see {self.log_path}")

    def chroot(self, step: str, *argv: str) -> None:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
               "LANG": "C.UTF-8", "HOME": "/root"}
        self.run(step, ["chroot", str(self.root), *argv], env=env)

    def debootstrap(self, packages: Iterable[str]) -> None:
        # The .debs are kept between builds: a rebuild after an input change only unpacks.
        DEB_CACHE.mkdir(parents=True, exist_ok=True)
        self.run("debootstrap", [
            "debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
            f"--cache-dir={DEB_CACHE}", SUITE, str(self.root), self.mirror,
        ])

    def copy_guest_files(self) -> None:
        for path in _guest_files():
            target = self.root / path.relative_to(GUEST_FILES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        for directory in CORE_IO_DIRS:
            (self.root / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)

    def install_ssh_key(self) -> Path:
        key = self.work / "id_ed25519"
        self.run("ssh-keygen", ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm-harness",
                                "-f", str(key)])
        ssh_dir = self.root / "root" / ".ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(key.with_suffix(".pub"), ssh_dir / "authorized_keys")
        return key

    def build_loopback_module(self) -> str:
        """Compile v4l2loopback for the image's kernel (dkms in the chroot, so natively on
        the host, never in the emulated guest); returns the kernel version it was built for.
        The package's own install hook may have built it already; this makes sure and fails
        the build with the reason when the module is missing."""
        versions = sorted(p.name for p in (self.root / "lib" / "modules").iterdir()
                          if (p / "kernel").is_dir())
        if not versions:
            raise ImageBuildError(f"no kernel modules in the image; see {self.log_path}")
        kernel = versions[-1]
        # dkms needs /proc and /dev/fd; the proc mount is undone whatever dkms answers.
        self.chroot("dkms v4l2loopback", "sh", "-c",
                    "mount -t proc proc /proc && ln -sfn /proc/self/fd /dev/fd && "
                    f"dkms autoinstall --kernelver {kernel}; status=$?; umount /proc; "
                    "exit $status")
        built = list((self.root / "lib" / "modules" / kernel).rglob(f"{LOOPBACK_MODULE}.ko*"))
        if not built:
            raise ImageBuildError(f"dkms did not build {LOOPBACK_MODULE} for kernel {kernel}; "
                                  f"see {self.log_path}")
        self.chroot("depmod", "depmod", kernel)
        return kernel

    def enable_services(self) -> None:
        self.chroot("enable services", "systemctl", "enable", "systemd-networkd", "ssh", "docker")
        # Nothing in the VM waits for "network online"; skip the 2-minute wait for it.
        self.chroot("mask wait-online", "systemctl", "mask", "systemd-networkd-wait-online")

    def python_venv(self, requirements: Sequence[str]) -> None:
        """Create /opt/venv with the service's dependencies from wheels fetched on the host.

        The host and the guest are both Debian bookworm x86_64 (same glibc, same CPython 3.11
        ABI when the host runs 3.11), so the host's pip picks wheels that fit the guest.
        """
        wheels = self.root / "tmp" / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        guest_python = _guest_python_version(self.root)
        self.run("pip download", [
            sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
            "--python-version", guest_python, "--platform", "manylinux2014_x86_64",
            "--platform", "manylinux_2_28_x86_64", "--dest", str(wheels), *requirements,
        ])
        self.chroot("venv", "python3", "-m", "venv", GUEST_VENV)
        self.chroot("pip install", f"{GUEST_VENV}/bin/pip", "install", "--quiet", "--no-index",
                    "--find-links", "/tmp/wheels", *requirements)
        shutil.rmtree(wheels)

    def slim(self) -> None:
        for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*",
                        "usr/share/doc/*", "usr/share/man/*", "boot/*.dpkg-bak"):
            for path in self.root.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def export_boot_files(self) -> None:
        kernels = sorted((self.root / "boot").glob("vmlinuz-*"))
        initrds = sorted((self.root / "boot").glob("initrd.img-*"))
        if not kernels or not initrds:
            raise ImageBuildError(f"no kernel/initrd in the image's /boot; see {self.log_path}")
        shutil.copyfile(kernels[-1], self.work / "vmlinuz")
        shutil.copyfile(initrds[-1], self.work / "initrd.img")

    def make_disk(self) -> None:
        self.run("mke2fs", ["mke2fs", "-q", "-t", "ext4", "-L", "root", "-d", str(self.root),
                            str(self.work / "disk.raw"), DISK_SIZE])


def _guest_python_version(root: Path) -> str:
    versions = sorted(p.name[len("python"):] for p in (root / "usr" / "bin").glob("python3.*")
                      if p.name[len("python"):].replace(".", "").isdigit())
    if not versions:
        raise ImageBuildError("no python3.X in the image's /usr/bin")
    return versions[-1]


def build_image(target: Path, mirror: str | None = None) -> None:
    """Build the image into ``target`` (which must not exist) in a sibling work folder."""
    if os.geteuid() != 0:
        raise ImageBuildError("building the VM image needs root (debootstrap, chroot)")
    for tool in ("debootstrap", "mke2fs", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise ImageBuildError(f"'{tool}' not found; run tools/provision.sh")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target.parent))
    builder = _Builder(work, work / "build.log", mirror or apt_mirror())
    try:
        builder.debootstrap(PACKAGES)
        builder.build_loopback_module()
        builder.copy_guest_files()
        builder.install_ssh_key()
        builder.enable_services()
        builder.python_venv(python_requirements())
        builder.slim()
        builder.export_boot_files()
        builder.make_disk()
        shutil.rmtree(builder.root)
        work.rename(target)
    except BaseException:
        shutil.rmtree(builder.root, ignore_errors=True)
        raise


def ensure_image(cache_root: Path = CACHE_ROOT, log=print) -> VmImage:
    """Return the cached image for the current inputs, building it first when absent.

    Concurrent callers serialise on a lock file; old images (other keys) are removed.
    """
    cache_root.mkdir(parents=True, exist_ok=True)
    image = VmImage(cache_root / cache_key())
    with open(cache_root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.exists():
            return image
        for stale in cache_root.iterdir():
            if stale.is_dir() and stale != image.directory:
                shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        log(f"vm: building image {image.directory.name} (debootstrap {SUITE}; a few minutes)")
        build_image(image.directory)
        log(f"vm: image built in {time.monotonic() - started:.0f} s")
    return image
