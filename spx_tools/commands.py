"""Run external tools; failures become one-line PackagingErrors naming the tool and the fix."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Sequence

from spx_tools.errors import PackagingError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def require_tool(name: str, package_hint: str) -> str:
    """Return the path of executable `name` or raise naming the package that provides it."""
    path = shutil.which(name)
    if path is None:
        raise PackagingError(f"'{name}' is not installed; install it ({package_hint}) "
                             "or run tools/provision.sh")
    return path


def run(args: Sequence[str], *, what: str, cwd: Path | None = None,
        input_bytes: bytes | None = None, on_line: Callable[[str], None] | None = None,
        env: dict[str, str] | None = None) -> str:
    """Run `args`; return its stdout (text). `on_line` receives output lines as they come.

    On a non-zero exit raises PackagingError "<what> failed (exit N): <last output line>".
    """
    if on_line is None:
        result = subprocess.run(list(args), cwd=cwd, input=input_bytes, capture_output=True,
                                env=env, check=False)
        out = result.stdout.decode(errors="replace")
        err = result.stderr.decode(errors="replace")
        if result.returncode != 0:
            raise PackagingError(f"{what} failed (exit {result.returncode}): "
                                 f"{last_line(err) or last_line(out)}")
        return out
    lines: list[str] = []
    with subprocess.Popen(list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            on_line(line)
        code = proc.wait()
    if code != 0:
        raise PackagingError(f"{what} failed (exit {code}): {reason(lines)}")
    return "\n".join(lines)


def reason(lines: Sequence[str]) -> str:
    """The most telling line of a failed tool's output: the last `error: ...` line our own
    scripts print (e.g. inside a Dockerfile RUN), else the last non-empty line."""
    plain = [_ANSI.sub("", line).strip() for line in lines]  # docker colours RUN stderr
    ours = [line for line in plain if line.startswith("error:")]
    return ours[-1][len("error:"):].strip() if ours else last_line("\n".join(plain))


def last_line(text: str) -> str:
    """The last non-empty line of `text` (the usual place for a tool's error message)."""
    for line in reversed(text.strip().splitlines()):
        if line.strip():
            return line.strip()
    return ""
