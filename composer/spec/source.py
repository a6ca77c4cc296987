"""Read a stack file into plain dicts and lists that remember where each value was written.

Mappings become `PosDict` and sequences `PosList`: ordinary ``dict``/``list`` whose
``pos``/``key_pos``/``value_pos``/``item_pos`` attributes give the file, line and
column of every key and value, so any later phase can point at the offending node.

Scalars are resolved with the YAML 1.2 core schema, as Docker Compose (go-yaml v3)
does: ``yes``/``on`` stay strings and ``22:22`` is not a base-60 number. Duplicate
keys are errors. ``!reset`` and ``!override`` become `Reset` and `Override` markers
for the merge phase.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from composer.errors import SpecError
from composer.spec.values import scalar_text

PathPart = str | int


class Pos(NamedTuple):
    """Where a node was written (a tuple: a file has many thousands of them)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class PosDict(dict[str, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    # Of a file's top mapping: whether the file has !reset or !override (False lets merging skip a walk).
    merge_tags = True

    def __init__(self, *args: Any, pos: Pos | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}

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
    def __init__(self, items: Iterable[Any] = (), pos: Pos | None = None) -> None:
        super().__init__(items)
        self.pos = pos
        self.item_pos: list[Pos | None] = []


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
    found: Pos | None = getattr(root, "pos", None)
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
    return found


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


def load_file(path: Path) -> Any:
    """Parse *path*; None for an empty document. Raises SpecError with a position."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"stack file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from None
    return load_text(text, str(path))


def load_text(text: str, name: str) -> Any:
    loader = _Loader(text)
    loader.file_name = name
    loader.merge_tags = False
    try:
        node = loader.get_single_node()
        tree = None if node is None else _value(loader, node)
        if isinstance(tree, PosDict):
            tree.merge_tags = loader.merge_tags  # no !reset/!override: merging need not look
        return tree
    except RecursionError:
        raise SpecError("invalid YAML: an anchor refers to itself", where=name) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, name, text) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", where=name) from None
    finally:
        loader.dispose()


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    file_name = "<string>"
    yaml_implicit_resolvers: dict[Any, Any] = {}
    yaml_constructors = dict(yaml.SafeLoader.yaml_constructors)


# YAML 1.2 core schema (what go-yaml v3, hence Docker Compose, resolves).
for _tag, _regexp, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp), list(_first))


# First characters of the plain scalars that may be a number or `<<`; a word is a
# bool or null only when it is one of _WORDS.
_MAYBE_NUMBER = frozenset("-+0123456789.<")
_WORDS = frozenset("true True TRUE false False FALSE null Null NULL ~".split())


def _resolve(self: Any, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
    """The tag of a node; a plain scalar that cannot be a number, bool or null is a
    string without trying every pattern (most scalars of a stack file)."""
    if kind is yaml.ScalarNode and implicit[0] and value and value[0] not in _MAYBE_NUMBER \
            and value not in _WORDS:
        return _STR
    tag: str = _Base.resolve(self, kind, value, implicit)
    return tag


_Loader.resolve = _resolve


def _pos(loader: Any, node: yaml.Node) -> Pos:
    mark = node.start_mark
    return Pos(loader.file_name, mark.line + 1, mark.column + 1)


def _check_duplicates(loader: Any, node: yaml.MappingNode) -> None:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.value in seen:
            first = seen[key_node.value].start_mark.line + 1
            raise SpecError(
                f'duplicate key "{key_node.value}" (first defined on line {first})',
                where=str(_pos(loader, key_node)),
            )
        seen[key_node.value] = key_node


def _construct_map(loader: Any, node: yaml.MappingNode) -> PosDict:
    if any(key_node.tag == _MERGE for key_node, _ in node.value):
        _check_duplicates(loader, node)  # before the merged keys join the node's own
        loader.flatten_mapping(node)  # YAML merge keys: `<<: *defaults`
    elif len({k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}) != len(node.value):
        _check_duplicates(loader, node)  # (or a key that is not a scalar)
    name = loader.file_name
    mark = node.start_mark
    out = PosDict(pos=Pos(name, mark.line + 1, mark.column + 1))
    key_pos, value_pos = out.key_pos, out.value_pos
    for key_node, value_node in node.value:
        raw_key = _value(loader, key_node)
        key = raw_key if isinstance(raw_key, str) else scalar_text(raw_key)
        out[key] = _value(loader, value_node)
        mark = key_node.start_mark
        key_pos[key] = Pos(name, mark.line + 1, mark.column + 1)
        mark = value_node.start_mark
        value_pos[key] = Pos(name, mark.line + 1, mark.column + 1)
    return out


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> PosList:
    out = PosList((_value(loader, item) for item in node.value), _pos(loader, node))
    out.item_pos = [_pos(loader, item) for item in node.value]
    return out


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _value(loader: Any, node: yaml.Node) -> Any:
    """The value of *node*: strings, mappings and sequences directly (most of a file),
    the rest by PyYAML's constructors. An alias yields a copy, not the same object."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        return _construct_map(loader, node)  # type: ignore[arg-type]
    if tag == _SEQ:
        return _construct_seq(loader, node)  # type: ignore[arg-type]
    return loader.construct_object(node, deep=True)


def _construct_reset(loader: Any, node: yaml.Node) -> Reset:
    loader.merge_tags = True
    return Reset()


def _construct_override(loader: Any, node: yaml.Node) -> Override:
    loader.merge_tags = True
    if isinstance(node, yaml.MappingNode):
        return Override(_construct_map(loader, node))
    if isinstance(node, yaml.SequenceNode):
        return Override(_construct_seq(loader, node))
    return Override(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("!reset", _construct_reset)
_Loader.add_constructor("!override", _construct_override)


def _syntax_error(exc: yaml.MarkedYAMLError, name: str, text: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    problem = exc.problem or "invalid YAML"
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        return SpecError(
            "invalid YAML: tab character", where=where, hint="indent with spaces, not tabs"
        )
    if problem.startswith("found undefined alias") and mark:
        alias = re.match(r"\*[^\s,\[\]{}]+", _line_at(text, mark.line)[mark.column:])
        if alias:
            return SpecError(f"invalid YAML: undefined alias {alias[0]}", where=where,
                             hint=f"define the anchor &{alias[0][1:]} before using it")
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1]
        return SpecError(
            f"unknown YAML tag {tag}", where=where, hint="pycompose knows !reset and !override"
        )
    if exc.context:
        started = f" started on line {exc.context_mark.line + 1}" if exc.context_mark else ""
        problem = f"{problem} ({exc.context}{started})"
    return SpecError(f"invalid YAML: {problem}", where=where)


def _char_at(text: str, line: int, column: int) -> str:
    return _line_at(text, line)[column : column + 1]


def _line_at(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line] if line < len(lines) else ""
