"""The documentation's sources for the docs tests: README.md and docs/**/*.md, their fenced
code blocks, and the command lines and YAML examples in them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

ROOT = Path(__file__).resolve().parents[2]
SHELL_OPERATORS = {"&", "&&", "||", "|", ";"}
FENCE = re.compile(r"^( *)```(\w*)")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its text."""

    path: Path
    line: int
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> List[Path]:
    """README.md and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> Iterator[Block]:
    """The fenced blocks of a Markdown file (fences may be indented, as in list items)."""
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, language, start = match.group(1), match.group(2), index
        body = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            line = lines[index]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            index += 1
        yield Block(path, start + 1, language, "\n".join(body))
        index += 1


def all_blocks() -> List[Block]:
    return [block for path in documents() for block in blocks(path)]


def shell_commands(block: Block) -> Iterator[List[str]]:
    """The commands of a shell block as argument lists: continuation lines joined, comments
    and `VAR=value` prefixes dropped, cut at the first redirection or shell operator (only
    the first command of `a && b` is taken)."""
    if block.language not in ("bash", "sh", "shell", "console"):
        return
    text = block.text.replace("\\\n", " ")
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words.pop(0)
        for index, word in enumerate(words):  # the command ends at a redirection or operator
            if word in SHELL_OPERATORS or word.startswith((">", "2>", "<")):
                words = words[:index]
                break
        if words:
            yield words
