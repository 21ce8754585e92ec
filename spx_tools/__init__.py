"""Build and lint Spot Extension (.spx) packages for the CORE I/O.

One module per job:

    errors        PackagingError: a one-line, user-facing failure
    progress      step-by-step progress lines with timings
    commands      running external tools (docker, pigz, debootstrap) with clear errors
    paths         where the repository, the extension files and the caches are
    locking       cross-process locks on the shared caches
    project       project facts: name, version, build date (SOURCE_DATE_EPOCH / git)
    findings      Finding (error / warning) and the report printer
    manifest      manifest.json: make it, lint it
    compose_rules docker-compose.yml: lint it against the CORE I/O rules
    compose_tool  validate a compose file with docker compose / docker-compose when present
    udev          udev rules: parse, lint, evaluate against a described device
    icon          draw the extension icon
    image_archive docker-save archives: read metadata (architecture, user, tags, layers)
    archive       deterministic tar.gz writing, parallel gzip, reading a .spx
    check         the `check` command: every rule on one .spx
    emulation     arm64 emulation through binfmt_misc + qemu-user-static (no helper image)
    base_image    make an arm64 Debian base image locally with debootstrap (no registry)
    wheels        download pinned runtime wheels for the target Python and platform
    docker_engine the docker CLI: build, save, inspect, run
    build         the `build` command and build_or_reuse() for the end-to-end tests
    cli           the command line of build_extension.py
"""

from __future__ import annotations
