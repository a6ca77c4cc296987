"""Plain dicts and lists that remember where each value was written, and errors at them.

Mappings are `PosDict` and sequences `PosList` (`composer.spec.yamlfile` reads them):
ordinary ``dict``/``list`` whose ``pos``/``key_pos``/``value_pos``/``item_pos``
attributes give the file, line and column of every key and value, so any later phase
can point at the offending node. ``!reset`` and ``!override`` are `Reset` and
`Override` markers for the merge phase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from composer.errors import SpecError

PathPart = str | int


# Where a node was written: (file, line, column), both counted from 1. Stored as plain
# tuples (a file has many thousands, and a plain tuple is the cheapest object to make);
# `Pos` is the same tuple with names and ``file:line:col`` printing, for messages.
Position = tuple[str, int, int]


class Pos(NamedTuple):
    """A `Position` with names, printed as ``file:line:col``."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_new_dict = dict.__new__


class PosDict(dict[str, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    # Slots: a large file has thousands of mappings (no instance dict for each, less for
    # the garbage collector to walk). merge_tags, of a file's top mapping: whether the
    # file has !reset or !override (False lets merging skip a walk).
    __slots__ = ("pos", "key_pos", "value_pos", "merge_tags")

    def __init__(self, *args: Any, pos: Position | None = None, **kwargs: Any) -> None:
        if args or kwargs:  # most are made empty: no call of dict's own __init__
            dict.__init__(self, *args, **kwargs)
        self.pos = pos
        self.key_pos: dict[str, Position] = {}
        self.value_pos: dict[str, Position] = {}
        self.merge_tags = True

    @staticmethod
    def at(pos: Position | None) -> PosDict:
        """An empty mapping written at *pos* (as ``PosDict(pos=pos)``, in half the time:
        readers make thousands)."""
        out = _new_dict(PosDict)
        out.pos, out.key_pos, out.value_pos, out.merge_tags = pos, {}, {}, True
        return out

    def clone(self) -> PosDict:
        """A shallow copy, positions included."""
        out = PosDict(self, pos=self.pos)
        out.key_pos, out.value_pos = dict(self.key_pos), dict(self.value_pos)
        return out

    def copy_positions(self, other: PosDict, key: str) -> None:
        """Take the positions of *key* from *other* (the file that supplied the value)."""
        if key in other.key_pos:
            self.key_pos[key] = other.key_pos[key]
        if key in other.value_pos:
            self.value_pos[key] = other.value_pos[key]


class PosList(list[Any]):
    __slots__ = ("pos", "item_pos")

    def __init__(self, items: Iterable[Any] = (), pos: Position | None = None) -> None:
        super().__init__(items)
        self.pos = pos
        self.item_pos: list[Position | None] = []


class Reset:
    """``!reset``: drop the value inherited from earlier files."""

    def __repr__(self) -> str:
        return "!reset"


@dataclass(frozen=True)
class Override:
    """``!override value``: replace instead of merging with earlier files."""

    value: Any


def key_path(path: Iterable[PathPart]) -> str:
    """``("services", "web", "volumes", 1)`` → ``services.web.volumes[1]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def locate(root: Any, path: Iterable[PathPart], *, key: bool = False) -> Pos | None:
    """The position of the deepest node of *path* that exists (its key with *key*)."""
    found: Position | None = getattr(root, "pos", None)
    node = root
    for part in path:
        if isinstance(node, PosDict) and isinstance(part, str) and part in node:
            here = node.key_pos.get(part) if key else node.value_pos.get(part)
            found = here or found
            node = node[part]
        elif isinstance(node, PosList) and isinstance(part, int) and 0 <= part < len(node):
            found = (node.item_pos[part] if part < len(node.item_pos) else None) or found
            node = node[part]
        else:
            break
    return None if found is None else Pos._make(found)


def spec_error(
    root: Any, path: Iterable[PathPart], message: str, hint: str | None = None, *, key: bool = False
) -> SpecError:
    """A SpecError pointing at *path* in *root*: ``file:line:col: services.web.image: ...``."""
    parts = tuple(path)
    where = locate(root, parts, key=key)
    label = key_path(parts)
    if where is not None:
        label = f"{where}: {label}" if label else str(where)
    return SpecError(message, where=label or None, hint=hint)
