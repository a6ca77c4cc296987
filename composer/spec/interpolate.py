"""``${VAR}`` interpolation of values (never keys), as the Compose spec defines it.

Supported: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+alt}``, ``${VAR+alt}``, nesting in the
default/alt/error text (``${A:-${B}}``, evaluated only when used), and ``$$`` for a
literal ``$``. Variables come from the mapping passed in, never from os.environ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from composer.errors import SpecError, spec_errors
from composer.spec.source import Override, PathPart, PosDict, PosList, spec_error
from composer.spec.values import InvalidValue

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
TEMPLATE_HINT = "write $$ for a literal $"


class Interpolator:
    """Substitutes variables from *env*; remembers unset ones to warn about once each."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.unset: dict[str, None] = {}  # ordered set

    def warnings(self) -> list[str]:
        return [
            f'The "{name}" variable is not set. Defaulting to a blank string.'
            for name in self.unset
        ]

    def substitute(self, text: str) -> str:
        if "$" not in text:
            return text
        out: list[str] = []
        pos = 0
        while True:
            dollar = text.find("$", pos)
            if dollar < 0:
                out.append(text[pos:])
                return "".join(out)
            out.append(text[pos:dollar])
            value, pos = self._expand(text, dollar)
            out.append(value)

    def _expand(self, text: str, dollar: int) -> tuple[str, int]:
        """Expand the reference starting at text[dollar] == "$"; return (value, next index)."""
        nxt = text[dollar + 1 : dollar + 2]
        if nxt == "$":
            return "$", dollar + 2
        if nxt != "{":
            match = _NAME.match(text, dollar + 1)
            if match is None:
                raise InvalidValue(f'invalid interpolation "{text}"', TEMPLATE_HINT)
            return self._lookup(match.group()), match.end()
        match = _NAME.match(text, dollar + 2)
        if match is None:
            raise InvalidValue(f'invalid interpolation "{text}"', TEMPLATE_HINT)
        name, pos = match.group(), match.end()
        if text.startswith("}", pos):
            return self._lookup(name), pos + 1
        operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        if operator is None:
            raise InvalidValue(f'invalid interpolation "{text}"', TEMPLATE_HINT)
        start = pos + len(operator)
        end = _closing_brace(text, start)
        return self._apply(name, operator, text[start:end]), end + 1

    def _lookup(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            self.unset.setdefault(name)
            return ""
        return value

    def _apply(self, name: str, operator: str, argument: str) -> str:
        value = self.env.get(name)
        present = value is not None and (value != "" or not operator.startswith(":"))
        kind = operator[-1]
        if kind == "-":
            return value if present and value is not None else self.substitute(argument)
        if kind == "+":
            return self.substitute(argument) if present else ""
        if present and value is not None:  # "?"
            return value
        message = self.substitute(argument)
        detail = f": {message}" if message else ""
        raise InvalidValue(f"required variable {name} is missing a value{detail}")


def _closing_brace(text: str, start: int) -> int:
    """The index of the ``}`` closing the reference whose argument starts at *start*
    (nested ``${...}`` and ``$$`` skipped); found with str.find, not a step per character."""
    depth, pos = 0, start
    while True:
        brace = text.find("}", pos)
        if brace < 0:
            raise InvalidValue(f'invalid interpolation "{text}": missing "}}"', TEMPLATE_HINT)
        dollar = text.find("$", pos, brace)
        if dollar >= 0:  # before the brace: `$$` is skipped, `${` opens a nested reference
            nxt = text[dollar + 1 : dollar + 2]
            depth += nxt == "{"
            pos = dollar + (2 if nxt in ("$", "{") else 1)
        elif depth:
            depth, pos = depth - 1, brace + 1
        else:
            return brace


def interpolate_tree(root: Any, interpolator: Interpolator) -> Any:
    """*root* with every string value substituted; positions are kept.

    Only containers with a changed value below them are copied; the input is never
    modified. Every value that cannot be substituted (``${VAR:?message}``, bad syntax) is
    reported, all together.
    """
    walker = _Walker(root, interpolator)
    result = walker.walk(root, ())
    if walker.problems:
        raise spec_errors(walker.problems)
    return result


class _Walker:
    def __init__(self, root: Any, interpolator: Interpolator) -> None:
        self.root, self.interpolator = root, interpolator
        self.problems: list[SpecError] = []

    def walk(self, node: Any, path: tuple[PathPart, ...]) -> Any:
        if isinstance(node, str):
            try:
                return self.interpolator.substitute(node)
            except InvalidValue as exc:
                self.problems.append(spec_error(self.root, path, exc.message, exc.hint))
                return node
        if isinstance(node, PosDict):
            return self.mapping(node, path)
        if isinstance(node, PosList):
            walk = self.walk
            values = [v if type(v) is str and "$" not in v else walk(v, (*path, i)) for i, v in enumerate(node)]
            if all(new is old for new, old in zip(values, node, strict=True)):
                return node
            items = PosList(values, node.pos)
            items.item_pos = node.item_pos
            return items
        if isinstance(node, Override):
            return Override(self.walk(node.value, path))
        return node

    def mapping(self, node: PosDict, path: tuple[PathPart, ...]) -> PosDict:
        changed = {}
        for key, value in node.items():
            if type(value) is str and "$" not in value:
                continue  # most values: nothing to substitute
            new = self.walk(value, (*path, key))
            if new is not value:
                changed[key] = new
        if not changed:
            return node
        out = PosDict({**node, **changed}, pos=node.pos)
        out.key_pos, out.value_pos = node.key_pos, node.value_pos
        return out
