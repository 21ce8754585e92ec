"""Long-option abbreviations as the SDK example's parser accepts them.

The example's ``payload``/``external`` sub-parsers use argparse's default prefix matching, so
``--dev /dev/video0`` and ``--host 192.168.50.5`` work there. ``expand`` rewrites such
prefixes to the full option before parsing, with one rule argparse lacks: when a prefix fits
several options but only one of the example's own (``--c`` = ``--codec``, although this
program also has ``--config``), it means the example's option, as it did there.
"""

from __future__ import annotations

import argparse
import difflib
from typing import Iterable, List, NoReturn, Sequence


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


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line naming the flag and the fix (with a
    did-you-mean for an unknown option) instead of the usage block; they raise
    ``AbbreviationError`` for the caller to print. ``--help`` still prints the usage."""

    def error(self, message: str) -> NoReturn:
        flag, _, problem = message.partition(": ")
        if message.startswith("unrecognized arguments: "):
            unknown = message.split(": ", 1)[1].split()[0]
            raise AbbreviationError(unknown, unknown_option_problem(unknown, self))
        if message.startswith("the following arguments are required: "):
            raise AbbreviationError(problem, f"required; see {self.prog} --help")
        if flag.startswith("argument "):
            raise AbbreviationError(flag[len("argument "):].split("/")[0], problem)
        raise AbbreviationError(self.prog, message)


def reject_unknown(argv: Sequence[str], parser: argparse.ArgumentParser) -> None:
    """Raise ``AbbreviationError`` for the first ``--option`` of ``argv`` the parser does not
    know (before argparse would complain about a missing required option instead)."""
    options = _long_options(parser)
    for token in argv:
        if token == "--":
            return
        name = token.partition("=")[0]
        if name.startswith("--") and name not in options and name != "--help":
            raise AbbreviationError(name, unknown_option_problem(name, parser))


def unknown_option_problem(token: str, parser: argparse.ArgumentParser) -> str:
    """``unknown option; did you mean --x?`` (or the list of options) for ``token``."""
    typed = token.partition("=")[0].lstrip("-")

    def likeness(option: str) -> float:  # a typo, or a typo in a shortened option
        bare = option[2:]
        return max(difflib.SequenceMatcher(None, typed, bare).ratio(),
                   difflib.SequenceMatcher(None, typed, bare[:len(typed)]).ratio())

    # the likest option; of equally like ones, the one nearest in length to what was typed
    scored = sorted((likeness(option), -abs(len(option) - 2 - len(typed)), option)
                    for option in _long_options(parser))
    if scored and scored[-1][0] >= 0.75:
        return f"unknown option; did you mean {scored[-1][2]}?"
    return f"unknown option; see {parser.prog} --help"


def _full_name(prefix: str, options: dict, preferred: set) -> str:
    matches = sorted(option for option in options if option.startswith(prefix))
    if not matches:
        return prefix  # the parser reports it as unknown, with a did-you-mean
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
