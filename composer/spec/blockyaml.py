"""A fast reader for the plain block-style YAML that most stack files are written in.

Stack files are mostly block mappings and block sequences of one-line scalars. This
reader handles exactly that subset, a line at a time with one regular expression, and
builds the same `PosDict`/`PosList` tree with the same positions as the libyaml reader
of `composer.spec.yamlfile`, several times faster and without importing PyYAML.

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
from typing import Any

from composer.spec.source import Pos, PosDict, PosList
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
_FLOW_PLAIN = (r"""(?:[^\s\-?:,\[\]{}\#&*!|>'"%@`]|[-?:](?=[^\s,\[\]{}]))"""
               r"""(?:[^\s:,\[\]{}]++|:(?=[^\s,\[\]{}])|[ ]++(?=[^\s\#:,\[\]{}]|:[^\s,\[\]{}]))*+""")
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
_new = tuple.__new__
# First characters of scalars that are plain strings unless they are one of WORDS (not a
# number, quote, flow collection or `<<`).
_SIMPLE_FIRST = frozenset(chr(c) for c in range(0x21, 0x7F)) - MAYBE_NUMBER - frozenset("'\"[{")


class _Frame:
    """An open block collection: a mapping (its keys' column) or a sequence (its dashes')."""

    __slots__ = ("col", "out", "is_map")

    def __init__(self, col: int, out: PosDict | PosList, is_map: bool) -> None:
        self.col, self.out, self.is_map = col, out, is_map


def read(text: str, name: str) -> PosDict | None:
    """The tree of *text* (None when it has no content), or `Unsupported`."""
    if _NOT_PRINTABLE_ASCII.search(text) and not text.replace("\n", "").isprintable():
        # Python's printable characters are all allowed by YAML; the rest (controls, tab,
        # CR, BOM, private use, separators other than space) are left to libyaml.
        raise Unsupported
    return _Reader(name).read(text.split("\n"))


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name
        self.stack: list[_Frame] = []
        # A key whose value is on the lines below: (its mapping's frame, key, position
        # of a null value), or None.
        self.pending: tuple[_Frame, str, Pos] | None = None

    def read(self, lines: list[str]) -> PosDict | None:  # noqa: C901 - the hot loop, kept flat
        name, match, stack, simple = self.name, _LINE.fullmatch, self.stack, _SIMPLE_FIRST
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
            found = match(content)
            if found is None:
                raise Unsupported
            dash, key, value, lone = found.groups()
            if dash is None:
                if key is None:
                    raise Unsupported  # a scalar alone on its line: a document that is one
                col = indent
                mapping = stack[-1] if stack else None
                if self.pending is not None or mapping is None or mapping.col != col or not mapping.is_map:
                    mapping = self._mapping_at(col, number)
            else:
                if key is None and lone is None:
                    raise Unsupported  # `-` with its item below: rare, left to libyaml
                items: Any = self._sequence_at(indent, number).out
                col = indent + len(dash)
                if key is None:
                    items.append(self._value(lone, number, col))
                    items.item_pos.append(_new(Pos, (name, number, col + 1)))
                    continue
                mapping = _Frame(col, PosDict(pos=_new(Pos, (name, number, col + 1))), True)
                items.append(mapping.out)
                items.item_pos.append(mapping.out.pos)
                stack.append(mapping)
            # The key, and its value on this line or (None) on the lines below.
            out: Any = mapping.out
            text = key if key[0] in simple and key not in WORDS else _key(key)
            if text in out:
                raise Unsupported  # a duplicate key: an error, reported by libyaml
            out.key_pos[text] = _new(Pos, (name, number, col + 1))
            if value is None:
                out[text] = None
                self.pending = (mapping, text, _new(Pos, (name, number, col + len(key) + 2)))
                continue
            value_col = indent + found.start(3)
            out[text] = (value if value[0] in simple and value not in WORDS
                         else self._value(value, number, value_col))
            out.value_pos[text] = _new(Pos, (name, number, value_col + 1))
        if self.pending is not None:
            self._null()
        if not stack:
            return None
        root = stack[0].out
        if not isinstance(root, PosDict):
            raise Unsupported
        return root

    def _mapping_at(self, col: int, number: int) -> _Frame:
        """The mapping a key at *col* belongs to: a new one for a pending key, or an open one."""
        stack, pending = self.stack, self.pending
        if pending is not None:
            owner = pending[0]
            if col > owner.col:
                self.pending = None
                return self._open(owner, pending[1], _Frame(col, PosDict(pos=_new(Pos, (self.name, number, col + 1))), True))
            self._null()
        if not stack:
            frame = _Frame(col, PosDict(pos=_new(Pos, (self.name, number, col + 1))), True)
            stack.append(frame)
            return frame
        while stack and (stack[-1].col > col or (stack[-1].col == col and not stack[-1].is_map)):
            stack.pop()
        if not stack or stack[-1].col != col:
            raise Unsupported  # an indentation that does not fit (maybe a multi-line scalar)
        return stack[-1]

    def _sequence_at(self, col: int, number: int) -> _Frame:
        """The sequence a dash at *col* belongs to: a new one for a pending key, or an open one."""
        stack, pending = self.stack, self.pending
        if pending is not None:
            owner = pending[0]
            if col >= owner.col:  # at the key's column: an indentless sequence, as PyYAML reads
                self.pending = None
                return self._open(owner, pending[1], _Frame(col, PosList(pos=_new(Pos, (self.name, number, col + 1))), False))
            self._null()
        if not stack:
            raise Unsupported  # a document that is a sequence: not a stack file
        while stack and stack[-1].col > col:
            stack.pop()
        if not stack or stack[-1].col != col or stack[-1].is_map:
            raise Unsupported
        return stack[-1]

    def _value(self, written: str, number: int, col: int) -> Any:
        """The value *written* at column *col* (0-based) of line *number*."""
        first = written[0]
        if first == "[":
            items = PosList(pos=_new(Pos, (self.name, number, col + 1)))
            for found in _FLOW_ITEM.finditer(written, 1):
                items.append(_scalar(found[0]))
                items.item_pos.append(_new(Pos, (self.name, number, col + found.start() + 1)))
            return items
        if first == "{":
            return PosDict(pos=_new(Pos, (self.name, number, col + 1)))
        return _scalar(written)

    def _open(self, owner: _Frame, key: str, frame: _Frame) -> _Frame:
        """*frame*'s collection as the value of *owner*'s pending *key*."""
        out: Any = owner.out
        out[key] = frame.out
        out.value_pos[key] = frame.out.pos
        self.stack.append(frame)
        return frame

    def _null(self) -> None:
        """The pending key has no value: null, at the end of its line (as libyaml places it)."""
        assert self.pending is not None
        frame, key, pos = self.pending
        out: Any = frame.out
        out.value_pos[key] = pos
        self.pending = None


def _key(written: str) -> str:
    first = written[0]
    if first == "'":
        return written[1:-1].replace("''", "'")
    if first == '"':
        return written[1:-1]
    if (first in MAYBE_NUMBER or written in WORDS) and plain_scalar(written) is not written:
        raise Unsupported  # a number, bool, null or `<<` as a key
    return written


def _scalar(written: str) -> Any:
    first = written[0]
    if first == "'":
        return written[1:-1].replace("''", "'")
    if first == '"':
        return written[1:-1]
    if first in MAYBE_NUMBER or written in WORDS:
        value = plain_scalar(written)
        if value is MERGE_KEY:
            raise Unsupported  # `<<` as a value
        return value
    return written
