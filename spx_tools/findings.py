"""Findings of the lint rules and the report printer.

A finding is one line: `ERROR   rule-id  where: message` or `WARNING ...`. Errors are CORE
I/O mistakes that break the extension on the robot (the check fails); warnings are
recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, TextIO

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One result of one rule. `rule` is a stable id such as 'compose-devices'."""

    level: str  # ERROR or WARNING
    rule: str
    where: str  # file (and key) the finding is about
    message: str  # what is wrong and how to fix it

    def line(self) -> str:
        """The report line of this finding."""
        return f"{self.level.upper():<7} {self.rule:<24} {self.where}: {self.message}"


def error(rule: str, where: str, message: str) -> Finding:
    """An error finding."""
    return Finding(ERROR, rule, where, message)


def warning(rule: str, where: str, message: str) -> Finding:
    """A warning (recommendation) finding."""
    return Finding(WARNING, rule, where, message)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.level == ERROR for f in findings)


def print_report(findings: list[Finding], stream: TextIO) -> int:
    """Print one line per finding and a summary; return 1 when there are errors, else 0."""
    for finding in findings:
        print(finding.line(), file=stream)
    errors = sum(f.level == ERROR for f in findings)
    warnings = len(findings) - errors
    verdict = "FAILED" if errors else "passed"
    print(f"check {verdict}: {errors} error(s), {warnings} warning(s)", file=stream)
    return 1 if errors else 0
