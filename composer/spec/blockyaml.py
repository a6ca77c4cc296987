"""A fast reader for the plain block-style YAML that most stack files are written in.

Stack files are mostly block mappings and block sequences of one-line scalars. This
reader handles exactly that subset, a line at a time (string tests for the common shapes
of lines, one regular expression for the others), and builds the same `PosDict`/`PosList`
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

from composer.spec.source import PosDict, PosList
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
# Printable ASCII and newlines: what bytes.translate deletes to find any other character of
# an ASCII text (in a tenth of a regular expression's time).
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
# First characters of plain scalars that are strings (not an indicator, a quote, a flow
# collection, a number or `<<`) unless they are one of WORDS, which start with _WORD_FIRST.
_WORD_FIRST = frozenset(word[0] for word in WORDS if word)
_PLAIN_FIRST = (frozenset(chr(c) for c in range(0x21, 0x7F)) - MAYBE_NUMBER - _WORD_FIRST
                - frozenset("'\"[{?:,]}#&*!|>%@`"))
# ... and of keys that are strings, when they are not one of WORDS.
_KEY_FIRST = _PLAIN_FIRST | _WORD_FIRST
# First characters of plain scalars that may be numbers (not `-`, which may be an indicator,
# nor `<`, which may be `<<`).
_NUMBER_FIRST = frozenset("0123456789.+")


# An open block collection: (column of its keys or dashes, the PosDict or PosList, is a mapping).
_Frame = tuple[int, Any, bool]


def read(text: str, name: str, substitute: Callable[[str], str] | None = None) -> PosDict | None:
    """The tree of *text* (None when it has no content), or `Unsupported`.

    *substitute*, if given, is applied to every string value with a ``$`` as it is read
    (interpolation, without a walk over the tree afterwards); what it raises propagates.
    """
    # Python's printable characters are all allowed by YAML; the rest (controls, tab, CR,
    # BOM, private use, separators other than space) are left to libyaml.
    if text.isascii():
        if text.encode().translate(None, _PRINTABLE_ASCII):
            raise Unsupported
    elif not text.replace("\n", "").isprintable():
        raise Unsupported
    return _Reader(name, substitute).read(text.split("\n"))


class _Reader:
    def __init__(self, name: str, substitute: Callable[[str], str] | None) -> None:
        self.name, self.substitute = name, substitute

    def read(self, lines: list[str]) -> PosDict | None:  # noqa: C901 - the hot loop, kept flat
        """The tree of *lines*, a line at a time: what the line holds (a fast lane, else the
        regular expression), where it goes (the innermost open collection, a new one for
        the pending key, or an outer one once inner ones are closed), then the store.

        Flat and in locals on purpose: a function call or an attribute per line is a few
        percent of the time of a file.
        """
        name, substitute = self.name, self.substitute
        stack: list[_Frame] = []
        plain, numeric, word_first, words, length = _PLAIN_FIRST, _NUMBER_FIRST, _WORD_FIRST, WORDS, len
        new_dict, new_list = dict.__new__, list.__new__
        # The innermost open collection (a mapping or a sequence) and the column of its keys
        # or dashes: most lines go into it. The ones around it are on the stack; the document
        # is the value of a pending key of a mapping at column -1.
        holder = PosDict.at(None)
        top: Any = holder
        new: Any
        top_col, top_map = -1, True
        # The key of `top` whose value is on the lines below, and its `key:` as written.
        pending: str | None = ""
        pending_written = ""
        started = False  # a `---` was read
        for number, line in enumerate(lines, 1):
            content = line.lstrip()  # (after the check in `read`, a space is the only white space left)
            if not content:
                continue
            lead = content[0]
            if lead == "#":
                continue
            col = length(line) - length(content)
            # What the line holds: an item (`- `, what follows it at kcol) or not; a key (None:
            # none) and its value (raw: as written, None: on the lines below), resolved to
            # `scalar` at vcol. The fast lanes take plain keys that are strings, and one-line
            # values that are plain (a string, a number, a bool or null) or quoted without
            # escapes (`''`, `\`); any other line (`fast` false) is left to the regular
            # expression.
            if lead == "-" and content[1:2] == " ":
                kcol, body = col + 2, content[2:] or " "  # (`- ` alone: not a fast line, see below)
            else:
                kcol, body = col, content
            key: str | None
            raw: str | None
            if body[-1] == ":":  # `key:`
                key, raw = body[:-1], None
                fast = (key.isidentifier() or _plain_key(key)) and key not in words
            else:
                key, sep, raw = body.partition(": ")
                if sep:  # `key: value` (the value not empty, nor ending with a space or `:`)
                    fast = ((key.isidentifier() or _plain_key(key)) and key not in words and ": " not in raw
                            and " #" not in raw and raw != "" and raw[-1] not in " :")
                    vcol = kcol + length(key) + 2
                else:  # `- value`
                    fast = kcol != col and " #" not in body and body[-1] != " "
                    key, raw, vcol = None, body, kcol
                if fast:
                    first = raw[0]
                    if first in plain:
                        scalar: Any = raw
                    elif first in numeric:
                        scalar = plain_scalar(raw)
                    elif first in word_first:
                        scalar = raw if raw not in words else plain_scalar(raw)
                    elif first == "'" and raw[-1] == "'" and raw.count("'") == 2:
                        scalar = raw[1:-1]
                    elif first == '"' and raw[-1] == '"' and raw.count('"') == 2 and "\\" not in raw:
                        scalar = raw[1:-1]
                    else:
                        fast = False
                    if "$" in raw and fast and substitute is not None:
                        scalar = substitute(scalar)
            if not fast:
                if col == 0 and content.startswith(("---", "...")):
                    if started or stack or content.rstrip(" ") != "---" and not content.startswith("--- #"):
                        raise Unsupported
                    started = True
                    continue
                found = _LINE.fullmatch(content)
                if found is None:
                    raise Unsupported
                dash, written, raw, lone = found.groups()
                kcol = col + length(dash) if dash else col
                if written is not None:
                    key, vcol, body = _key(written), col + found.start(3), written + ":"
                    if raw is not None:
                        scalar = self._value(raw, number, vcol)
                elif lone is not None and dash:
                    key, raw, vcol = None, lone, kcol
                    scalar = self._value(lone, number, kcol)
                else:
                    raise Unsupported  # a scalar alone (a document that is one), or `-` with its item below
            # Where it goes. A pending key's value is a new collection when this line is
            # inside it (a sequence also at the key's column: an indentless one, as PyYAML
            # reads it), else null. Then the open collection at col: the innermost one, or
            # an outer one once those inside it are closed.
            if pending is not None:
                item = kcol != col
                if col > top_col or item and col == top_col:
                    if item:
                        new = new_list(PosList)
                        new.item_pos = []
                    else:
                        new = new_dict(PosDict)
                        new.key_pos, new.value_pos, new.merge_tags = {}, {}, True
                    new.pos = (name, number, col + 1)
                    top[pending] = new
                    top.value_pos[pending] = new.pos
                    stack.append((top_col, top, top_map))
                    top, top_col, top_map = new, col, not item
                else:
                    _null(top, pending, pending_written)
                pending = None
            if kcol == col:  # a key of the mapping at col
                if col != top_col or not top_map:
                    while col < top_col or (col == top_col and not top_map):
                        top_col, top, top_map = stack.pop()
                    if col != top_col:
                        raise Unsupported  # an indentation that does not fit (maybe a multi-line scalar)
            else:  # an item of the sequence at col
                if col != top_col or top_map:
                    while col < top_col:
                        top_col, top, top_map = stack.pop()
                    if col != top_col or top_map:
                        raise Unsupported
                if key is None:  # a scalar item
                    top.append(scalar)
                    top.item_pos.append((name, number, kcol + 1))
                    continue
                new = new_dict(PosDict)  # a mapping item, whose first key is on this line
                new.pos = (name, number, kcol + 1)
                new.key_pos, new.value_pos, new.merge_tags = {}, {}, True
                top.append(new)
                top.item_pos.append(new.pos)
                stack.append((top_col, top, top_map))
                top, top_col, top_map = new, kcol, True
            # The key, and its value on this line or (pending) on the lines below.
            if key in top:
                raise Unsupported  # a duplicate key: an error, reported by libyaml
            top.key_pos[key] = (name, number, kcol + 1)
            if raw is None:
                pending, pending_written = key, body
            else:
                top[key] = scalar
                top.value_pos[key] = (name, number, vcol + 1)
        if pending is not None and top is not holder:
            _null(top, pending, pending_written)
        root = holder.get("")
        if root is not None and type(root) is not PosDict:
            raise Unsupported  # a document that is a sequence: not a stack file
        return root

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


def _plain_key(key: str) -> bool:
    """Whether *key*, not an identifier, is a plain scalar that is a string unless it is one
    of WORDS (``x-common``, ``com.example.tier``, ``a b``): the fast lanes' test for the rarer keys."""
    return key[:1] in _KEY_FIRST and ": " not in key and " #" not in key and key[-1] not in " :"


def _null(mapping: Any, key: str, written: str) -> None:
    """*key* of *mapping*, *written* ``key:``, has no value: null, after the colon (where
    libyaml places it)."""
    mapping[key] = None
    name, line, col = mapping.key_pos[key]
    mapping.value_pos[key] = (name, line, col + len(written))


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
