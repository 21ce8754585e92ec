"""qemu VM harness: a small Debian VM shaped like a CORE I/O, with real V4L2 cameras (vivid),
udev and a Docker engine, for tests that this machine's kernel cannot run.

``vm.image.ensure_image()`` builds (or reuses the cached) disk image; ``vm.machine.Machine``
boots it and controls it over ssh. ``python -m vm --help`` for the command line.
"""
