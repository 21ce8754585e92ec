"""The C allocator tuned for a long-running image server inside a memory limit.

glibc's defaults keep freed image buffers: every thread that allocates gets its own arena
(up to 8 per core) holding on to what it freed, and after a large block is freed the
threshold for giving big blocks their own mapping rises to that size, so later image-sized
buffers come from arenas and stay resident after use. ``tune()`` caps the arenas at
``ARENAS`` and fixes the mapping threshold at ``MMAP_THRESHOLD`` (image buffers are mapped
and returned to the system when freed). Call it once, first thing, before threads start;
a no-op where glibc's ``mallopt`` is absent (musl, macOS).
"""

from __future__ import annotations

import ctypes
import ctypes.util

ARENAS = 2
MMAP_THRESHOLD = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc malloc.h
_M_ARENA_MAX = -8


def tune() -> bool:
    """Apply the settings; True when glibc accepted them."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_ARENA_MAX, ARENAS)) and bool(mallopt(_M_MMAP_THRESHOLD,
                                                                MMAP_THRESHOLD))
