"""Plain YAML scalars resolved with the YAML 1.2 core schema, as go-yaml v3 (hence Docker
Compose) resolves them: ``yes``/``on`` stay strings and ``22:22`` is not a base-60 number;
numbers as Go parses them (``1_000`` is 1000, ``0b1`` 1, ``08`` 8.0, ``1e400`` a string).

One function for both YAML readers (`composer.spec.blockyaml` and the libyaml one,
`composer.spec.yamlevents`), so a file means the same whichever of them reads it.
"""

from __future__ import annotations

import re
from typing import Any

# First characters of the plain scalars that may be a number or `<<`; a word is a
# bool or null only when it is one of WORDS.
MAYBE_NUMBER = frozenset("-+0123456789.<")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset({"~", "null", "Null", "NULL", ""})
WORDS = frozenset(_BOOLS) | _NULLS
# Go's ParseInt with base 0 (after go-yaml v3 drops every `_`): a sign, then a prefixed
# hex, octal or binary number, a leading-zero octal one, or a decimal one.
_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]+)|([1-9][0-9]*|0))")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
}
_INT64 = 1 << 63
# The characters of the texts _INT or _FLOAT may match (after `_` are dropped).
_NUMBER_CHARS = "0123456789abcdefABCDEFxXoO+-._"


class MergeKey:
    """The ``<<`` merge key (a plain ``<<``), which only a mapping's key may be."""

    def __repr__(self) -> str:
        return "<<"


MERGE_KEY = MergeKey()


def plain_scalar(text: str) -> Any:
    """The value of the untagged plain scalar *text*: a bool, None, an int, a float,
    `MERGE_KEY` or the text itself (go-yaml v3's resolve, timestamps aside)."""
    if text in WORDS:
        return _BOOLS.get(text)
    if text[0] not in MAYBE_NUMBER:
        return text
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if text[0] == "<":
        return MERGE_KEY if text == "<<" else text
    if text.strip(_NUMBER_CHARS):  # a character no number has (`256m`, `20s`, `1:2`): quicker than both regexes
        return text
    if text[0] == ".":  # Go's ParseFloat of the text as written
        return _float(text, text) if _FLOAT.fullmatch(text) else text
    plain = text.replace("_", "")
    found = _INT.fullmatch(plain)
    if found is not None:
        sign, hexa, octal, binary, old_octal, decimal = found.groups()
        digits, base = ((hexa, 16) if hexa else (octal, 8) if octal else (binary, 2) if binary
                        else (old_octal, 8) if old_octal else (decimal, 10))
        if len(digits.lstrip("0")) <= 64:  # (longer: out of range, and too long for int())
            value = -int(digits, base) if sign == "-" else int(digits, base)
            if -_INT64 <= value < _INT64 or (not sign and value < 2 * _INT64):  # int64, else uint64
                return value
    if _FLOAT.fullmatch(plain):  # (`08` is not octal: a float, as in go-yaml)
        return _float(plain, text)
    return text


def _float(digits: str, text: str) -> Any:
    """The float *digits*, or *text* where Go's ParseFloat fails (out of range: ``1e400``)."""
    value = float(digits)
    return text if value in (float("inf"), float("-inf")) else value
