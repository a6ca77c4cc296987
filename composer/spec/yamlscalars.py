"""Plain YAML scalars resolved with the YAML 1.2 core schema, as go-yaml v3 (hence Docker
Compose) resolves them: ``yes``/``on`` stay strings and ``22:22`` is not a base-60 number.

One function for both YAML readers (`composer.spec.blockyaml` and the libyaml one in
`composer.spec.yamlfile`), so a file means the same whichever of them reads it.
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
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


class MergeKey:
    """The ``<<`` merge key (a plain ``<<``), which only a mapping's key may be."""

    def __repr__(self) -> str:
        return "<<"


MERGE_KEY = MergeKey()


def plain_scalar(text: str) -> Any:
    """The value of the untagged plain scalar *text*: a bool, None, an int, a float,
    `MERGE_KEY` or the text itself."""
    if text in WORDS:
        return _BOOLS.get(text)
    if text[0] not in MAYBE_NUMBER:
        return text
    if _INT.fullmatch(text):
        return _integer(text)
    if _FLOAT.fullmatch(text):
        return _float(text)
    return MERGE_KEY if text == "<<" else text


def _integer(text: str) -> int | float:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:] if text[0] in "+-" else text
    if digits == "0":
        return 0
    if digits.startswith("0x"):
        return int(digits[2:], 16)
    if digits[0] == "0":  # octal, as go-yaml (`017` is 15, `0o17` too)
        try:
            return sign * int(digits, 8)
        except ValueError:  # `08`: not octal; go-yaml falls back to a float
            return sign * float(digits)
    return sign * int(digits)


def _float(text: str) -> float:
    lowered = text.lower()
    sign = -1.0 if lowered[0] == "-" else 1.0
    digits = lowered[1:] if lowered[0] in "+-" else lowered
    if digits == ".inf":
        return sign * float("inf")
    if digits == ".nan":
        return float("nan")
    return sign * float(digits)
