"""Every command line shown in README.md and docs/ is accepted by the real parser of its tool.

Each documented `python -m TOOL ...` (also `.venv/bin/python`), `spot-camera-service ...`
and `python build_extension.py ...` is handed to that tool's own argparse parser, which
parses it without running the tool: either the tool's `parse_args(argv)` function, or its
`main(argv)` with `ArgumentParser.parse_known_args` made to stop the program right after the
outermost parse succeeded. A flag that was renamed or removed, a wrong value type or a
missing required argument fails here with the parser's own message.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from tests.docs.doc_sources import all_blocks, shell_commands

#: module of `python -m` -> (module:function, how): "parse" = a parse_args(argv) function,
#: "main" = main(argv) stopped after its parse, "import" = takes no arguments.
TOOLS: Dict[str, Tuple[str, str]] = {
    "camera_service": ("camera_service.cli.main:parse_args", "parse"),
    "camera_service.calibrate": ("camera_service.calibrate.__main__:parse_args", "parse"),
    "camera_service.cli.healthcheck": ("camera_service.cli.healthcheck:main", "main"),
    "camera_service.schema": ("camera_service.schema.__main__:main", "main"),
    "camera_service.sources.v4l2.probe": ("camera_service.sources.v4l2.probe:main", "main"),
    "camera_service.sources.v4l2.discovery": ("camera_service.sources.v4l2.discovery:main",
                                              "import"),
    "viewer": ("viewer.__main__:main", "main"),
    "coreio_sim": ("coreio_sim.__main__:main", "main"),
    "robot_sim": ("robot_sim.cli:main", "main"),
    "build_extension.py": ("spx_tools.cli:main", "main"),
    "fake_cameras.board_camera": ("fake_cameras.board_camera:parse_args", "parse"),
    "fake_cameras.ip_camera": ("fake_cameras.ip_camera:main", "main"),
    "fake_cameras.clock_camera": ("fake_cameras.clock_camera:main", "main"),
    "fake_cameras.hostile_cameras": ("fake_cameras.hostile_cameras:main", "main"),
    "fake_cameras.loopback_feeder": ("fake_cameras.loopback_feeder:main", "main"),
    "fake_clients.slow_h2_client": ("fake_clients.slow_h2_client:main", "main"),
    "fake_clients.half_open": ("fake_clients.half_open:main", "main"),
    "devtools.demo": ("devtools.demo:main", "main"),
    "bench": ("bench.__main__:main", "main"),
    "vm": ("vm.__main__:main", "main"),
}
#: packages of this repository: a documented `python -m` of one of them must be in TOOLS.
OUR_PACKAGES = ("camera_service", "viewer", "coreio_sim", "robot_sim", "fake_cameras",
                "fake_clients", "devtools", "bench", "vm", "spx_tools")
ALIASES = {"spot-camera-service": "camera_service", "robot-sim": "robot_sim"}
PYTHONS = ("python", "python3", ".venv/bin/python", "$(BIN)/python")


def tool_and_argv(words: List[str]) -> Optional[Tuple[str, List[str]]]:
    """(tool, its arguments) for a documented command of ours, else None."""
    if words[0] in ALIASES:
        return ALIASES[words[0]], words[1:]
    if words[0] not in PYTHONS or len(words) < 2:
        return None
    if words[1] == "-m" and len(words) > 2:
        return words[2], words[3:]
    if words[1].endswith("build_extension.py"):
        return "build_extension.py", words[2:]
    return None


def documented_commands() -> List[Tuple[str, str, List[str]]]:
    found = []
    for block in all_blocks():
        for words in shell_commands(block):
            picked = tool_and_argv(words)
            if picked and (picked[0] in TOOLS or picked[0].split(".")[0] in OUR_PACKAGES):
                found.append((block.where, picked[0], picked[1]))
    return found


class _Parsed(Exception):
    """Raised right after a successful outermost parse: the tool does not run."""


@contextlib.contextmanager
def stop_after_parse():
    """Make the outermost successful parse (parse_args, parse_intermixed_args, or a direct
    parse_known_args) raise ``_Parsed``; argparse's own errors still exit 2 as usual."""
    parser_class = argparse.ArgumentParser
    originals = {name: getattr(parser_class, name) for name in
                 ("parse_args", "parse_intermixed_args", "parse_known_args")}
    depth = [0]

    def stopping(name):
        original = originals[name]

        def parse(self, *args, **kwargs):
            depth[0] += 1
            try:
                result = original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                raise _Parsed()
            return result
        return parse

    for name in originals:
        setattr(parser_class, name, stopping(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(parser_class, name, original)


def _function(target: str) -> Callable:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


COMMANDS = documented_commands()


def test_the_docs_show_the_command_lines_of_every_tool_family():
    tools = {tool for _where, tool, _argv in COMMANDS}
    for family in ("camera_service", "camera_service.calibrate", "viewer", "coreio_sim",
                   "robot_sim", "build_extension.py", "fake_cameras.board_camera"):
        assert family in tools, f"no documented command line of {family}"


@pytest.mark.parametrize("where, tool, argv", COMMANDS,
                         ids=[f"{w} {t}" for w, t, _ in COMMANDS])
def test_documented_command_line_parses(where, tool, argv):
    assert tool in TOOLS, f"{where}: python -m {tool} is not a known tool; add it to TOOLS"
    target, how = TOOLS[tool]
    function = _function(target)
    if how == "import":
        assert not argv, f"{where}: {tool} takes no arguments"
        return
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            if how == "parse":
                function(list(argv))
            else:
                with stop_after_parse():
                    status = function(list(argv))
                pytest.fail(f"{where}: {tool} {' '.join(argv)} refused (exit status {status}): "
                            f"{stderr.getvalue().strip()}")
    except _Parsed:
        pass
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            pytest.fail(f"{where}: {tool} {' '.join(argv)} refused: {stderr.getvalue().strip()}")
