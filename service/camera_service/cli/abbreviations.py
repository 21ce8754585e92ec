"""Long-option abbreviations as the SDK example's parser accepts them.

The example's ``payload``/``external`` sub-parsers use argparse's default prefix matching, so
``--dev /dev/video0`` and ``--host 192.168.50.5`` work there. ``expand`` rewrites such
prefixes to the full option before parsing, with one rule argparse lacks: when a prefix fits
several options but only one of the example's own (``--c`` = ``--codec``, although this
program also has ``--config``), it means the example's option, as it did there.
"""

from __future__ import annotations

import argparse
from typing import Iterable, List, Sequence


class AbbreviationError(ValueError):
    """A prefix that fits several options; ``prefix`` as typed, ``problem`` names them."""

    def __init__(self, prefix: str, problem: str) -> None:
        super().__init__(f"{prefix}: {problem}")
        self.prefix = prefix
        self.problem = problem


def _long_options(parser: argparse.ArgumentParser) -> dict:
    """Long option string -> the action's dest."""
    return {option: action.dest for action in parser._actions  # argparse has no public list
            for option in action.option_strings if option.startswith("--")}


def expand(argv: Sequence[str], parser: argparse.ArgumentParser,
           preferred: Iterable[str] = ()) -> List[str]:
    """``argv`` with every unambiguous long-option prefix written out in full (also in the
    ``--opt=value`` form). Tokens after ``--`` are left alone. Raises ``AbbreviationError``."""
    options = _long_options(parser)
    preferred = set(preferred)
    result: List[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            result.append(token)
            result.extend(tokens)
            break
        if not token.startswith("--") or len(token) < 3:
            result.append(token)
            continue
        name, equals, value = token.partition("=")
        if name not in options:
            name = _full_name(name, options, preferred)
        result.append(f"{name}{equals}{value}")
    return result


def _full_name(prefix: str, options: dict, preferred: set) -> str:
    matches = sorted(option for option in options if option.startswith(prefix))
    if not matches:
        return prefix  # argparse reports it as unrecognized
    if len({options[m] for m in matches}) == 1:
        return _canonical(matches, options)
    ours = [m for m in matches if m in preferred]
    if ours and len({options[m] for m in ours}) == 1:
        return _canonical(ours, options)
    raise AbbreviationError(prefix, f"ambiguous abbreviation, could be {', '.join(matches)}; "
                            "write the option in full")


def _canonical(matches: List[str], options: dict) -> str:
    """The longest spelling of the one option ``matches`` stand for (``--device-name`` over
    its alias ``--device``)."""
    dest = options[matches[0]]
    return max((o for o, d in options.items() if d == dest and o in matches), key=len)
