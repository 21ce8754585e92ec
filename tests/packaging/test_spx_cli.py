"""The command line's error contract: one `error:` line naming the fix, no traceback."""

from __future__ import annotations

import pytest

from spx_tools.cli import main


def test_build_without_docker_is_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, pip, debootstrap...
    assert main(["build"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("[1] engine and emulation")  # progress lines, then the one error line
    assert err[-1] == ("error: 'docker' is not installed; install it (apt-get install "
                       "docker.io) or run tools/provision.sh")
    assert [line for line in err if line.startswith("error")] == [err[-1]]
    assert not any("Traceback" in line for line in err)


def test_check_of_a_missing_file_fails_with_one_finding(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.spx")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and "does not exist" in out[0]


def test_abbreviated_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--no-compose", "x.spx"])
    assert "unrecognized arguments: --no-compose" in capsys.readouterr().err


def test_failure_reason_prefers_our_own_error_line():
    from spx_tools.commands import reason

    lines = ["Step 7/20 : RUN ...",
             "\x1b[91merror: the base image has Python 3.11 but the wheels are for 3.8; "
             "build with --python-version 3.11",
             "The command '/bin/sh -c set -eu' returned a non-zero code: 1"]
    assert reason(lines).startswith("the base image has Python 3.11")
    assert reason(["a", "last words", ""]) == "last words"
