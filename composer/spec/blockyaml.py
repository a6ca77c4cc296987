"""A fast reader for the plain block-style YAML that most stack files are written in.

Stack files are mostly block mappings and block sequences of one-line scalars. This
reader handles exactly that subset, a line at a time (string tests for the commonest
lines, one regular expression for the others), and builds the same `PosDict`/`PosList`
tree with the same positions as the libyaml reader (`composer.spec.yamlevents`): in
less than half its time on large files, and without importing PyYAML.

Anything outside the subset raises `Unsupported`, and the caller reads the file with
libyaml instead: flow collections (``[a, b]``, ``{}``), block scalars (``|``, ``>``),
anchors, aliases, tags, scalars spread over several lines, double-quoted escapes,
non-string keys, ``<<``, duplicate keys, directives and document markers other than
a leading ``---``, tabs, carriage returns, and any line whose indentation does not fit
the structure so far. Every YAML error is among those, so errors are always reported
by the libyaml reader. Being exact is what matters: a file read here reads the same
there (tests compare both on the corpus and on thousands of mutated files).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from composer.spec.source import PosDict, Position, PosList
from composer.spec.yamlscalars import MAYBE_NUMBER, MERGE_KEY, WORDS, plain_scalar


class Unsupported(Exception):
    """The text is outside the subset this reader handles (possibly invalid YAML)."""


# A plain scalar on one line, in block context: it does not start with an indicator
# (`-`, `?` and `:` may start one when a non-space follows), it has no `: ` and no ` #`.
# Possessive quantifiers: the grammar never needs to give characters back, and the
# regular expressions are most of this reader's time.
_PLAIN = r"""(?:[^\s\-?:,\[\]{}\#&*!|>'"%@`]|[-?:](?=\S))(?:[^\s:]++|:(?=\S)|[ ]++(?=[^\s\#:]|:\S))*+"""
_QUOTED = r"""'(?:[^']++|'')*+'|"[^"\\]*+\""""
_SCALAR = f"(?:{_PLAIN}|{_QUOTED})"
# A flow sequence of scalars on one line (`[a, "b"]`), or an empty flow mapping (`{}`).
# In flow context `?` and `:` always start a key or a value, and libyaml rejects `:` followed
# by `?` inside a plain scalar.
_FLOW_PLAIN = (r"""(?:[^\s\-?:,\[\]{}\#&*!|>'"%@`]|-(?=[^\s,\[\]{}]))"""
               r"""(?:[^\s:,\[\]{}]++|:(?=[^\s,\[\]{}?])|[ ]++(?=[^\s\#:,\[\]{}]|:[^\s,\[\]{}?]))*+""")
_FLOW_ITEM = re.compile(f"{_FLOW_PLAIN}|{_QUOTED}")
_FLOW = (rf"\[[ ]*(?:(?:{_FLOW_ITEM.pattern})[ ]*(?:,[ ]*(?:{_FLOW_ITEM.pattern})[ ]*)*(?:,[ ]*)?)?\]"
         r"|\{[ ]*\}")
_VALUE = f"(?:{_SCALAR}|{_FLOW})"
# One line after its indentation: an optional `- `, then `key:` with an optional value, or
# a lone value; then an optional comment.
_LINE = re.compile(
    rf"(-(?:[ ]+|$))?(?:({_SCALAR}):(?=[ ]|$)(?:[ ]+({_VALUE}))?|({_VALUE}))?(?:[ ]+\#.*)?[ ]*"
)
# Outside printable ASCII: characters YAML forbids anywhere, and those left to libyaml
# (tab, CR). A small class: one with all of Unicode's printable ranges takes ~7 ms to compile.
_NOT_PRINTABLE_ASCII = re.compile("[^\n\x20-\x7e]")
# First characters of scalars that are plain strings unless they are one of WORDS (not a
# number, quote, flow collection or `<<`).
_SIMPLE_FIRST = frozenset(chr(c) for c in range(0x21, 0x7F)) - MAYBE_NUMBER - frozenset("'\"[{")
# ... and of those, the ones a plain scalar may start with (not an indicator).
_PLAIN_FIRST = _SIMPLE_FIRST - frozenset("?:,]}#&*!|>%@`")
_DIGITS = frozenset("0123456789")


# An open block collection: (column of its keys or dashes, the PosDict or PosList, is a mapping).
_Frame = tuple[int, Any, bool]


def read(text: str, name: str, substitute: Callable[[str], str] | None = None) -> PosDict | None:
    """The tree of *text* (None when it has no content), or `Unsupported`.

    *substitute*, if given, is applied to every string value with a ``$`` as it is read
    (interpolation, without a walk over the tree afterwards); what it raises propagates.
    """
    if _NOT_PRINTABLE_ASCII.search(text) and not text.replace("\n", "").isprintable():
        # Python's printable characters are all allowed by YAML; the rest (controls, tab,
        # CR, BOM, private use, separators other than space) are left to libyaml.
        raise Unsupported
    return _Reader(name, substitute).read(text.split("\n"))


class _Reader:
    def __init__(self, name: str, substitute: Callable[[str], str] | None) -> None:
        self.name, self.substitute = name, substitute
        self.stack: list[_Frame] = []  # the open collections, outermost first

    def read(self, lines: list[str]) -> PosDict | None:  # noqa: C901 - the hot loop, kept flat
        """The tree of *lines*. Common lines are handled inline: a key of the innermost
        mapping, an item of the innermost sequence, a new collection for a pending key."""
        name, match, stack, simple = self.name, _LINE.fullmatch, self.stack, _SIMPLE_FIRST
        new_mapping = PosDict.at
        substitute, plain, digits = self.substitute, _PLAIN_FIRST, _DIGITS
        # A key whose value is on the lines below: (its mapping, key, position of a null).
        pending: tuple[_Frame, str, Position] | None = None
        started = False
        for number, line in enumerate(lines, 1):
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
            if indent == 0 and content.startswith(("---", "...")):
                if started or content.rstrip(" ") != "---" and not content.startswith("--- #"):
                    raise Unsupported
                started = True
                continue
            started = True
            # Fast lanes for the commonest lines, `name: word...`, `name:` and `- word...`
            # (a plain key and a plain value, neither one a number nor a bool or null: what
            # the regular expression would find, without its cost); else the expression.
            dash: str | None = None
            lone: str | None = None
            key: str | None
            value: str | None
            key, sep, value = content.partition(": ")
            if sep:
                if not (key.isidentifier() and value and value[0] in plain and ": " not in value
                        and " #" not in value and value[-1] not in " :"):
                    key = None
            elif key[-1] == ":" and key[:-1].isidentifier():
                key, value = key[:-1], None
            elif key[:2] == "- " and ":" not in key and " #" not in key and key[2:3] in plain and key[-1] != " ":
                dash, lone, key = "- ", key[2:], None
            else:
                key = None
            if key is not None:
                value_col = indent + len(key) + 2
            elif lone is None:
                found = match(content)
                if found is None:
                    raise Unsupported
                dash, key, value, lone = found.groups()
                value_col = indent + found.start(3)
            col = indent
            if dash is None:
                if key is None:
                    raise Unsupported  # a scalar alone on its line: a document that is one
                if pending is not None and col > pending[0][0]:  # a mapping: the pending key's value
                    frame = self._open(pending, (col, new_mapping((name, number, col + 1)), True))
                    pending = None
                else:
                    if pending is not None:
                        _null(pending)
                        pending = None
                    frame = stack[-1] if stack else self._root(col, number)
                    if frame[0] != col or not frame[2]:
                        frame = self._close_to(col, True)
            else:
                if key is None and lone is None:
                    raise Unsupported  # `-` with its item below: rare, left to libyaml
                # At the key's column too: an indentless sequence, as PyYAML reads it.
                if pending is not None and col >= pending[0][0]:
                    frame = self._open(pending, (col, PosList(pos=(name, number, col + 1)), False))
                    pending = None
                else:
                    if pending is not None:
                        _null(pending)
                        pending = None
                    if not stack:
                        raise Unsupported  # a document that is a sequence: not a stack file
                    frame = stack[-1]
                    if frame[0] != col or frame[2]:
                        frame = self._close_to(col, False)
                items: Any = frame[1]
                col += len(dash)
                if lone is not None:
                    if lone[0] in simple and lone not in WORDS:
                        items.append(lone if substitute is None or "$" not in lone else substitute(lone))
                    else:
                        items.append(self._value(lone, number, col))
                    items.item_pos.append((name, number, col + 1))
                    continue
                mapping = new_mapping((name, number, col + 1))
                items.append(mapping)
                items.item_pos.append(mapping.pos)
                frame = (col, mapping, True)
                stack.append(frame)
            # The key, and its value on this line or (None) on the lines below.
            assert key is not None  # (a line with neither went on above)
            out: Any = frame[1]
            text = key if key[0] in simple and key not in WORDS else _key(key)
            if text in out:
                raise Unsupported  # a duplicate key: an error, reported by libyaml
            out.key_pos[text] = (name, number, col + 1)
            if value is None:
                out[text] = None
                pending = (frame, text, (name, number, col + len(key) + 2))
                continue
            first = value[0]
            if first in simple and value not in WORDS:
                out[text] = value if substitute is None or "$" not in value else substitute(value)
            elif first == "'" and "''" not in value and "$" not in value:
                out[text] = value[1:-1]
            elif first in digits and "$" not in value:  # a number, or a word like `256m`
                out[text] = plain_scalar(value)
            else:
                out[text] = self._value(value, number, value_col)
            out.value_pos[text] = (name, number, value_col + 1)
        if pending is not None:
            _null(pending)
        if not stack:
            return None
        root = stack[0][1]
        if not isinstance(root, PosDict):
            raise Unsupported
        return root

    def _root(self, col: int, number: int) -> _Frame:
        """The document's mapping, whose first key is at *col* of line *number*."""
        frame = (col, PosDict.at((self.name, number, col + 1)), True)
        self.stack.append(frame)
        return frame

    def _close_to(self, col: int, is_map: bool) -> _Frame:
        """The open mapping (*is_map*) or sequence at *col*, once those inside it are closed."""
        stack = self.stack
        while stack and (stack[-1][0] > col or (is_map and stack[-1][0] == col and not stack[-1][2])):
            stack.pop()
        if not stack or stack[-1][0] != col or stack[-1][2] is not is_map:
            raise Unsupported  # an indentation that does not fit (maybe a multi-line scalar)
        return stack[-1]

    def _open(self, pending: tuple[_Frame, str, Position], frame: _Frame) -> _Frame:
        """*frame*'s new collection as the value of the *pending* key."""
        out: Any = pending[0][1]
        out[pending[1]] = frame[1]
        out.value_pos[pending[1]] = frame[1].pos
        self.stack.append(frame)
        return frame

    def _value(self, written: str, number: int, col: int) -> Any:
        """The value *written* at column *col* (0-based) of line *number*."""
        first = written[0]
        if first == "[":
            items = PosList(pos=(self.name, number, col + 1))
            for found in _FLOW_ITEM.finditer(written, 1):
                items.append(self._substituted(_scalar(found[0])))
                items.item_pos.append((self.name, number, col + found.start() + 1))
            return items
        if first == "{":
            return PosDict(pos=(self.name, number, col + 1))
        return self._substituted(_scalar(written))

    def _substituted(self, value: Any) -> Any:
        if self.substitute is not None and type(value) is str and "$" in value:
            return self.substitute(value)
        return value


def _null(pending: tuple[_Frame, str, Position]) -> None:
    """The pending key has no value: null, at the end of its line (as libyaml places it)."""
    frame, key, pos = pending
    out: Any = frame[1]
    out.value_pos[key] = pos


def _key(written: str) -> str:
    key = _scalar(written)
    if type(key) is not str:
        raise Unsupported  # a number, bool or null as a key
    return key


def _scalar(written: str) -> Any:
    """A scalar as written: quoted, or plain (resolved)."""
    first = written[0]
    if first == "'":
        return written[1:-1].replace("''", "'")
    if first == '"':
        return written[1:-1]
    value = plain_scalar(written)
    if value is MERGE_KEY:
        raise Unsupported  # `<<` as a value
    return value
