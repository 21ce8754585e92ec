"""The allocator settings are accepted by glibc (the service's platforms are glibc)."""

from __future__ import annotations

import platform

import pytest
from camera_service.core import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_accepts_the_settings():
    assert allocator.tune() is True
