"""Fixtures of the packaging tests: .spx files made from in-memory files (no Docker)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Callable, Dict

import pytest

from spx_tools.archive import tar_bytes


@pytest.fixture
def make_spx(tmp_path: Path) -> Callable[..., Path]:
    """make_spx(files) -> path of a .spx (gzip tar) holding `files` ({name: bytes})."""
    counter = [0]

    def make(files: Dict[str, bytes], name: str | None = None) -> Path:
        counter[0] += 1
        path = tmp_path / (name or f"package{counter[0]}.spx")
        path.write_bytes(gzip.compress(tar_bytes(files), mtime=0))
        return path

    return make
