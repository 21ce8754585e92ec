"""Reading a config file without trusting it: bounded size, text only, bounded YAML.

``read_yaml(path)`` returns the parsed document or raises ``ConfigError`` with one line:

- the file may be at most ``MAX_CONFIG_BYTES`` (a config is a few KiB; anything bigger is
  the wrong file);
- it must be UTF-8 text (a binary file is named as such, with the offset of the first bad
  byte);
- YAML is composed by a safe loader that refuses nesting deeper than ``MAX_DEPTH`` (no
  recursion error on a 20,000-deep document) and aliases that refer to themselves or expand
  to more than ``MAX_EXPANDED_NODES`` nodes beyond those written (no "billion laughs": the
  expansion is counted on the node graph, never built; a long file without aliases is not
  one);
- a file with no document at all (empty, blank, comments only - e.g. cut to nothing by a
  writer that has not finished) is refused (``EmptyConfig``), never read as the defaults.
"""

from __future__ import annotations

import os
from typing import Any, Dict

import yaml

from camera_service.core.errors import ConfigError

MAX_CONFIG_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 20_000
KEY = "--config"


class _Refused(yaml.YAMLError):
    """Raised inside the loader; becomes a ``ConfigError``."""


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with a depth limit while composing and an alias-expansion check
    on each composed document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels at line "
                               f"{mark.line + 1}; a config is a few levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph that is cyclic or expands (aliases followed) past the limit.

    Iterative post-order walk with memoized subtree sizes: linear in the graph, whatever
    it would expand to.
    """
    sizes: Dict[int, int] = {}
    on_path = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            # Only what aliases add counts: a long file without aliases is bounded by
            # MAX_CONFIG_BYTES (its node count is len(sizes)).
            if size - len(sizes) - 1 > MAX_EXPANDED_NODES:
                raise _Refused(f"aliases expand to more than {MAX_EXPANDED_NODES} values "
                               "(an alias bomb?); write the values out instead")
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise _Refused("an alias refers to the node that contains it (recursive "
                           "structure); write the values out instead")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _Refused("an alias refers to the node that contains it (recursive "
                               "structure); write the values out instead")
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return ()


def _has_document(text: str) -> bool:
    """True when ``text`` has a line that is neither blank nor a comment."""
    return any(line.strip() and not line.lstrip().startswith("#")
               for line in text.splitlines())


def read_text(path: str) -> str:
    """The file's text; ``ConfigError`` if unreadable, too big or not UTF-8 text."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(KEY, f"cannot read {path}: {err.strerror or err}") from None
    if len(data) > MAX_CONFIG_BYTES:
        try:
            size = f"{os.path.getsize(path) / 1024:.0f} KiB"
        except OSError:
            size = "too big"
        raise ConfigError(KEY, f"{path} is {size}; a config file is at most "
                          f"{MAX_CONFIG_BYTES // 1024} KiB (is it the right file?)")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ConfigError(KEY, f"{path} is a binary file (NUL byte at offset {nul}), not a "
                          "YAML config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(KEY, f"{path} is not UTF-8 text (byte 0x{data[err.start]:02x} at "
                          f"offset {err.start}); save it as UTF-8 YAML") from None


class EmptyConfig(ConfigError):
    """The file holds no YAML document at all (empty, blank or comments only): a file cut
    to nothing while it was being written, never a config to apply."""


def read_yaml(path: str) -> Any:
    """The YAML document in ``path``; raises ``ConfigError`` (``EmptyConfig`` when the file
    holds no document: an emptied or half-written file is never read as the defaults)."""
    text = read_text(path)
    if not _has_document(text):
        raise EmptyConfig(KEY, f"{path} is empty (no YAML in it; a file still being written?)"
                          "; nothing applied - write the whole config, or delete the file to "
                          "run on the defaults")
    try:
        return yaml.load(text, Loader=BoundedLoader)  # a SafeLoader subclass
    except _Refused as err:
        raise ConfigError(KEY, f"{path} is refused: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(KEY, f"{path} is not valid YAML{where}: {problem}") from None
    except RecursionError:  # belt and braces: the depth limit comes first
        raise ConfigError(KEY, f"{path} is nested too deeply") from None
