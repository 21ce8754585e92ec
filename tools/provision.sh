#!/usr/bin/env bash
# Install the system packages the full test suite needs and make sure a Docker engine runs.
# Idempotent; uses sudo when not root. Debian/Ubuntu hosts only.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(docker.io docker-compose qemu-user-static binfmt-support debootstrap pigz chromium chromium-driver ffmpeg
  qemu-system-x86 qemu-utils openssh-client e2fsprogs)  # second line: the VM harness (vm/)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "provision: installing ${missing[*]}"
  # Wait for another apt run (e.g. a parallel provisioning) instead of failing on its lock.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "provision: starting dockerd"
  $SUDO sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "provision: dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
# arm64 emulation for building and running the CORE I/O image (host qemu, no helper image).
if [ "$(uname -m)" != "aarch64" ] && ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  echo "provision: registering qemu-aarch64 in binfmt_misc"
  [ -e /proc/sys/fs/binfmt_misc/register ] || $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  $SUDO update-binfmts --enable qemu-aarch64
fi
echo "provision: ready"
