"""Abuse: hypothesis-generated camera byte streams against the camera-bytes boundary, in a
512 MiB memory cgroup (issue 23).

``camera_fuzz_child`` runs the examples in its own process (see its doc for what is
generated); here that process is put in the cgroup and its RSS sampled over the run.
Asserted: no OOM kill, the peak under the limit, every stream read or refused with one
line, nothing on stderr (no traceback, no OpenCV line). The seed is printed; rerun one with
``CAMERA_FUZZ_SEED=<n>``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from memory_cgroup import MemoryCgroup, RssSampler

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 512 * 1024 * 1024
EXAMPLES = int(os.environ.get("CAMERA_FUZZ_EXAMPLES", "60"))


@pytest.mark.slow
def test_generated_camera_streams_are_read_or_refused_in_bounded_memory():
    cgroup = MemoryCgroup(LIMIT) if MemoryCgroup.available() else None
    paths = [os.environ.get("PYTHONPATH", ""), str(ROOT / "service"), str(ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path),
           "CAMERA_FUZZ_EXAMPLES": str(EXAMPLES)}
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name(
        "camera_fuzz_child.py"))], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        if cgroup is not None:
            cgroup.add(child.pid)
        sampler = RssSampler(child.pid)
        out, err = child.communicate(timeout=900)
        sampler.stop()
        lines = out.splitlines()
        print(f"\n{lines[0] if lines else 'no seed'}: {len(lines) - 1} streams, RSS peak "
              f"{sampler.peak / 2**20:.0f} MiB, cgroup peak "
              f"{(cgroup.peak() or 0) / 2**20 if cgroup else float('nan'):.0f} MiB")
        if cgroup is not None:
            assert cgroup.oom_kills() == 0
            assert (cgroup.peak() or 0) < LIMIT
        assert child.returncode == 0, err[-3000:]
        assert err == ""
        assert lines[0].startswith("SEED ")
        results = lines[1:]
        assert len(results) == EXAMPLES
        odd = [line for line in results if not line.startswith(("READ ", "REFUSED "))]
        assert not odd, odd[:5]
        assert sampler.peak < LIMIT
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if cgroup is not None:
            cgroup.remove()
