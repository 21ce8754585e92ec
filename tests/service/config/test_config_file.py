"""Hostile and careless config files: each is one short line naming the problem, quickly,
without the process growing; through the command line it is exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest
from camera_service.config import model as config
from camera_service.config.yaml_file import MAX_CONFIG_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES
from camera_service.core.errors import ConfigError


def _alias_bomb() -> str:
    """The "billion laughs" document: 9 levels of 9 aliases each, about 750 bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    lines.append("sources: *i")
    return "\n".join(lines) + "\n"


CASES = {
    "alias bomb": (_alias_bomb(), f"more than {MAX_EXPANDED_NODES} values"),
    "recursive alias": ("robot: &r {port: 1, again: *r}\n", "recursive structure"),
    "20,000-deep nesting": ("[" * 20_000 + "]" * 20_000, f"deeper than {MAX_DEPTH} levels"),
    "deep mapping": ("".join(" " * i + f"k{i}:\n" for i in range(100)), "deeper than"),
    "10 MB string value": ('log_level: "' + "x" * 10_000_000 + '"\n',
                           f"at most {MAX_CONFIG_BYTES // 1024} KiB"),
    "long string value": ('log_level: "' + "x" * 200_000 + '"\n', "(200000 characters)"),
    "binary file": (os.urandom(4096).replace(b"\x00", b"\x01")[:2000] + b"\x00" * 8,
                    "binary file"),
    "latin-1 text": ("log_level: caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    # issue 23: nothing in the file is no config (a writer cut it and has not written yet)
    "empty file": ("", "is empty"),
    "comments only": ("# sources:\n#   - name: front\n\n   \n", "is empty"),
}


def _write(tmp_path, content) -> str:
    path = tmp_path / "config.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_config_is_one_short_line(tmp_path, case):
    content, needle = CASES[case]
    path = _write(tmp_path, content)
    rss_before = psutil.Process().memory_info().rss
    with pytest.raises(ConfigError) as raised:
        config.load(path)
    message = str(raised.value)
    assert needle in message
    assert "\n" not in message and len(message) < 400
    assert psutil.Process().memory_info().rss - rss_before < 100 * 1024 * 1024


def test_a_long_list_without_aliases_is_not_called_an_alias_bomb(tmp_path):
    """Issue 23: a 5,000-source file (25,000 values, no alias) was refused as "an alias
    bomb?"; it is refused for what it is."""
    path = _write(tmp_path, "sources:\n" + "".join(f"  - {{name: c{i}, type: synthetic}}\n"
                                                   for i in range(5000)))
    with pytest.raises(ConfigError) as raised:
        config.load(path)
    assert "alias" not in str(raised.value)
    assert "has 5000 entries" in str(raised.value) and "at most 16" in str(raised.value)


def test_a_small_anchor_is_still_fine(tmp_path):
    path = _write(tmp_path, "sources:\n  - &cam {name: a, type: synthetic, fps: 5}\n"
                  "  - {<<: *cam, name: b}\n")
    loaded = config.load(path)
    assert [s.settings.name for s in loaded.sources] == ["a", "b"]


def test_echoed_values_are_cut_everywhere(tmp_path):
    long = "y" * 50_000
    for text in (f"robot: {{mode: {long}}}\n", f"sources: [{{name: {long}, type: file}}]\n",
                 f"sources: [{{name: a, type: {long}}}]\n", f"service: {{port: {long}}}\n",
                 f"sources: [{{name: a, type: synthetic, native_jpeg: {long}}}]\n"):
        with pytest.raises(ConfigError) as raised:
            loaded = config.load(_write(tmp_path, text))
            loaded.build_sources()
        assert len(str(raised.value)) < 400, str(raised.value)[:200]


@pytest.mark.parametrize("case", ["binary file", "20,000-deep nesting", "alias bomb"])
def test_command_line_exits_2_with_one_line(tmp_path, case):
    path = _write(tmp_path, CASES[case][0])
    result = subprocess.run([sys.executable, "-m", "camera_service", "--config", path],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and CASES[case][1] in lines[0], result.stderr[-500:]


@pytest.mark.parametrize(("text", "needle"), [
    ("sources: [{name: a, type: synthetic, width: 8192, height: 8192, fps: 240}]\n",
     "Mpixel/s at most"),
    ("sources: [" + ", ".join(f"{{name: c{i}, type: synthetic}}" for i in range(40)) + "]\n",
     "at most 16 cameras"),
])
def test_size_and_rate_fit_a_core_io(tmp_path, text, needle):
    with pytest.raises(ConfigError, match=needle):
        config.load(_write(tmp_path, text))
