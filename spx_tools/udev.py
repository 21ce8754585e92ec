"""udev rules: parse, lint, and evaluate against a described device (no udevd needed).

The CORE I/O copies an extension's rules file to the host and triggers it at install.
`evaluate` applies rules to a device description the way udev does for the keys we use
(match with == / != and shell globs with `|` alternatives, GOTO/LABEL, =, += and := on
GROUP, MODE, OWNER, SYMLINK, ENV, $env{KEY} and %k substitutions), so tests can show which
names and permissions a camera gets.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from spx_tools.findings import Finding, error, warning

MATCH_OPS = ("==", "!=")
ASSIGN_OPS = ("=", "+=", "-=", ":=")
KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM",
        "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TAG",
        "TAGS", "TEST", "PROGRAM", "RESULT", "OWNER", "GROUP", "MODE", "SECLABEL", "RUN",
        "LABEL", "GOTO", "IMPORT", "OPTIONS"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS",
               "SECLABEL"}
MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST"}
_TOKEN = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


@dataclass(frozen=True)
class Token:
    """One `KEY{attr}OP"value"` of a rule."""

    key: str
    attr: str | None
    op: str
    value: str


@dataclass(frozen=True)
class Rule:
    """One rule (a logical line) and where it is."""

    line: int
    tokens: tuple[Token, ...]


class UdevSyntaxError(ValueError):
    """A rules file that udev would reject; the message names the line."""


def parse(text: str) -> list[Rule]:
    """Parse rules text (continuation lines joined); raise UdevSyntaxError on bad syntax."""
    rules: list[Rule] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip() and not line.lstrip().startswith("#"):
            rules.append(Rule(start, _tokens(line, start)))
    return rules


def _tokens(line: str, number: int) -> tuple[Token, ...]:
    tokens, position = [], 0
    while position < len(line):
        match = _TOKEN.match(line, position)
        if match is None:
            raise UdevSyntaxError(f"line {number}: cannot parse {line[position:].strip()!r}; "
                                  'write KEY=="value" pairs separated by commas')
        key, attr, op, value = match.groups()
        if key not in KEYS:
            raise UdevSyntaxError(f"line {number}: unknown key {key}")
        if op in MATCH_OPS and key in ASSIGN_ONLY:
            raise UdevSyntaxError(f"line {number}: {key} can only be assigned, not matched")
        if op in ASSIGN_OPS and key in MATCH_ONLY:
            raise UdevSyntaxError(f"line {number}: {key} can only be matched; use ==")
        if key == "MODE" and not re.fullmatch(r"0?[0-7]{3}", value):
            raise UdevSyntaxError(f"line {number}: MODE {value!r} is not octal like 0660")
        tokens.append(Token(key, attr, op, value))
        position = match.end()
        if position < len(line):
            if line[position] != ",":
                raise UdevSyntaxError(f"line {number}: expected ',' after {key}")
            position += 1
    return tuple(tokens)


def lint(text: str, where: str) -> list[Finding]:
    """Syntax errors, undefined GOTO labels and world-writable modes of a rules file."""
    try:
        rules = parse(text)
    except UdevSyntaxError as exc:
        return [error("udev-syntax", where, str(exc))]
    findings: list[Finding] = []
    labels = {t.value for r in rules for t in r.tokens if t.key == "LABEL"}
    for rule in rules:
        for token in rule.tokens:
            if token.key == "GOTO" and token.value not in labels:
                findings.append(error("udev-syntax", where, f"line {rule.line}: GOTO "
                                      f"{token.value!r} has no LABEL"))
            if token.key == "MODE" and int(token.value, 8) & 0o002:
                findings.append(warning("udev-permissions", where, f"line {rule.line}: MODE "
                                        f"{token.value} lets every user write the device; "
                                        "use 0660 with GROUP=\"video\""))
    return findings


@dataclass
class Device:
    """A device as udev sees it, and what the rules assign to it."""

    kernel: str
    subsystem: str
    action: str = "add"
    attrs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    group: str = "root"
    mode: str = "0600"
    owner: str = "root"
    symlinks: list[str] = field(default_factory=list)


def _matches(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    return any(fnmatch.fnmatchcase(value, alt) for alt in pattern.split("|"))


def _expand(value: str, device: Device) -> str:
    value = re.sub(r"\$env\{([^}]*)\}", lambda m: device.env.get(m.group(1), ""), value)
    return value.replace("%k", device.kernel).replace("$kernel", device.kernel)


def _lookup(token: Token, device: Device) -> str | None:
    simple = {"ACTION": device.action, "KERNEL": device.kernel, "KERNELS": device.kernel,
              "SUBSYSTEM": device.subsystem, "SUBSYSTEMS": device.subsystem}
    if token.key in simple:
        return simple[token.key]
    if token.key in ("ATTR", "ATTRS"):
        return device.attrs.get(token.attr or "")
    if token.key == "ENV":
        return device.env.get(token.attr or "")
    return None


def evaluate(rules: list[Rule], device: Device) -> Device:
    """Apply `rules` to `device` in order (GOTO jumps forward); returns the device."""
    skip_to: str | None = None
    for rule in rules:
        if skip_to is not None:
            if any(t.key == "LABEL" and t.value == skip_to for t in rule.tokens):
                skip_to = None
            continue
        matched = all(_matches(t.value, _lookup(t, device)) == (t.op == "==")
                      for t in rule.tokens if t.op in MATCH_OPS)
        if not matched:
            continue
        for token in (t for t in rule.tokens if t.op in ASSIGN_OPS):
            value = _expand(token.value, device)
            if token.key == "GOTO":
                skip_to = token.value
            elif token.key == "SYMLINK":
                links = value.split()
                device.symlinks = links if token.op in ("=", ":=") else device.symlinks + links
            elif token.key == "ENV":
                device.env[token.attr or ""] = value
            elif token.key in ("GROUP", "MODE", "OWNER"):
                setattr(device, token.key.lower(), value)
    return device
