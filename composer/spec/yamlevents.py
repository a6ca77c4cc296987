"""Any YAML, read through libyaml's parse events into a `PosDict`/`PosList` tree.

The reader for what `composer.spec.blockyaml` declines (see `composer.spec.yamlfile`).
Scalars are resolved with the YAML 1.2 core schema, as Docker Compose (go-yaml v3)
does: ``yes``/``on`` stay strings and ``22:22`` is not a base-60 number. Duplicate
keys are errors; ``<<`` merge keys work as in PyYAML; an alias is a copy of its
anchor's value, and an anchor may be defined again (an alias refers to the most
recent definition, as the YAML spec and go-yaml v3 say). ``!reset`` and ``!override``
become `Reset` and `Override` markers for the merge phase; any other tag on a mapping
or list is an error.

The tree is built straight from libyaml's parse events (one pass, no node graph):
composing nodes first and walking them took about twice as long on large files.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from composer.errors import SpecError
from composer.spec.source import Override, Pos, PosDict, Position, PosList, Reset
from composer.spec.values import scalar_text
from composer.spec.yamlscalars import MAYBE_NUMBER, MERGE_KEY, WORDS, plain_scalar


def load_text(text: str, name: str) -> Any:
    """The tree of *text*, or a SpecError with the position of its first YAML error."""
    loader = _Loader(text)
    builder = _Builder(loader, name)
    try:
        tree = builder.document()
        if isinstance(tree, PosDict):
            tree.merge_tags = builder.merge_tags  # no !reset/!override: merging need not look
        return tree
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", where=name) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, name, text) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", where=name) from None
    finally:
        loader.dispose()


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    # No implicit resolution: untagged plain scalars go to `plain_scalar` (YAML 1.2 core
    # schema), not to PyYAML's YAML 1.1 rules (`yes`, `on`, base-60 numbers).
    yaml_implicit_resolvers: dict[Any, Any] = {}
    yaml_constructors = dict(yaml.SafeLoader.yaml_constructors)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NO_KEY = object()
_CORE_TYPES: dict[str, type] = {"tag:yaml.org,2002:int": int, "tag:yaml.org,2002:float": float,
                                "tag:yaml.org,2002:bool": bool, "tag:yaml.org,2002:null": type(None)}


class _Mapping:
    """A mapping being read: its own keys, then what ``<<`` merges under them."""

    __slots__ = ("out", "pos", "anchor", "tag", "key", "key_pos", "key_event", "merges")

    def __init__(self, pos: Position, anchor: str | None, tag: str) -> None:
        self.out, self.pos, self.anchor, self.tag = PosDict(pos=pos), pos, anchor, tag
        self.key: Any = _NO_KEY
        self.key_pos: Position | None = None
        self.key_event: Any = None  # the event the key was read from
        self.merges: list[tuple[Any, Position]] = []


class _Sequence:
    __slots__ = ("out", "pos", "anchor", "tag")

    def __init__(self, pos: Position, anchor: str | None, tag: str) -> None:
        self.out, self.pos, self.anchor, self.tag = PosList(pos=pos), pos, anchor, tag


class _Builder:
    """Consumes the parse events of one document and builds its tree."""

    def __init__(self, loader: Any, name: str) -> None:
        self.loader, self.name = loader, name
        self.merge_tags = False  # some !reset or !override seen
        # Each anchor's most recent node: (value, position), or its frame while it is read.
        self.anchors: dict[str, tuple[Any, Position] | _Mapping | _Sequence] = {}

    def document(self) -> Any:
        get = self.loader.get_event
        get()  # stream start
        if self.loader.check_event(StreamEndEvent):
            return None
        start = get()  # document start
        root = self.node()
        get()  # document end
        if not self.loader.check_event(StreamEndEvent):
            raise yaml.composer.ComposerError("expected a single document in the stream", start.start_mark,
                                              "but found another document", get().start_mark)
        return root

    def node(self) -> Any:  # noqa: C901 - one loop over the events, the hot path of loading
        """The next node, read iteratively (nesting depth costs no Python recursion).

        Plain words, positions and new keys are handled inline: most of a file.
        """
        get, name = self.loader.get_event, self.name
        stack: list[_Mapping | _Sequence] = []
        while True:
            event = get()
            kind = type(event)
            mark = event.start_mark
            if kind is ScalarEvent:
                value = event.value
                if event.tag is not None:
                    value = self._scalar(event)
                elif event.implicit[0] and (not value or value[0] in MAYBE_NUMBER or value in WORDS):
                    value = plain_scalar(value)  # not a plain word, nor quoted: resolve
                    if value is MERGE_KEY and not (stack and type(stack[-1]) is _Mapping
                                                   and stack[-1].key is _NO_KEY):
                        raise yaml.constructor.ConstructorError(  # `<<` only as a key
                            None, None, f"could not determine a constructor for the tag {_MERGE!r}", mark)
                pos = (name, mark.line + 1, mark.column + 1)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, pos)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                stack.append(self._start(event))
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                value, pos = self._finish(frame), frame.pos
                if frame.anchor is not None and self.anchors.get(frame.anchor) is frame:
                    self.anchors[frame.anchor] = (value, pos)  # (unless defined again inside)
            elif kind is AliasEvent:
                value, pos = self._alias(event)
                if value is MERGE_KEY and not (stack and type(stack[-1]) is _Mapping and stack[-1].key is _NO_KEY):
                    raise yaml.constructor.ConstructorError(  # an anchored `<<` used as a value
                        None, None, f"could not determine a constructor for the tag {_MERGE!r}", mark)
            else:  # pragma: no cover - the parser emits nodes only here
                raise yaml.composer.ComposerError(None, None, f"unexpected {event}", mark)
            if not stack:
                return value
            top: Any = stack[-1]
            if type(top) is _Sequence:
                top.out.append(value)
                top.out.item_pos.append(pos)
                continue
            key = top.key
            if key is _NO_KEY:
                top.key, top.key_pos, top.key_event = value, pos, event
                continue
            top.key = _NO_KEY
            out = top.out
            if type(key) is str and key not in out:
                out[key] = value
                out.key_pos[key] = top.key_pos
                out.value_pos[key] = pos
            else:
                self._add(top, key, value, pos)

    def _scalar(self, event: Any) -> Any:
        """A tagged scalar: ``!reset``/``!override`` markers, else PyYAML's constructor."""
        tag, value = event.tag, event.value
        if tag == "!" or tag == _STR:
            return value
        if tag == "!reset" or tag == "!override":
            self.merge_tags = True
            return Reset() if tag == "!reset" else Override(value)
        wanted = _CORE_TYPES.get(tag)
        if wanted is not None:  # as go-yaml v3: the plain scalar's value, if of the tag's type
            resolved = plain_scalar(value) if value else None
            if type(resolved) is int and wanted is float:
                return float(resolved)
            if type(resolved) is wanted:
                return resolved
        else:
            node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
            try:
                constructed = self.loader.construct_object(node, deep=True)
                # `!!binary`: its text, as go-yaml gives a string (never Python's bytes).
                return constructed.decode() if isinstance(constructed, bytes) else constructed
            except ValueError:  # (UnicodeDecodeError too)
                pass
        raise yaml.constructor.ConstructorError(
            None, None, f'invalid value "{value}" for {tag.replace("tag:yaml.org,2002:", "!!")}',
            event.start_mark)

    def _start(self, event: Any) -> _Mapping | _Sequence:
        mapping = type(event) is MappingStartEvent
        tag = event.tag
        if tag is None or tag == "!" or tag == (_MAP if mapping else _SEQ):
            tag = ""
        elif tag in ("!reset", "!override"):
            self.merge_tags = True
        else:
            raise yaml.constructor.ConstructorError(
                None, None, f"could not determine a constructor for the tag {tag!r}", event.start_mark)
        mark = event.start_mark
        pos = (self.name, mark.line + 1, mark.column + 1)
        frame = (_Mapping if mapping else _Sequence)(pos, event.anchor, tag)
        if event.anchor is not None:
            self.anchors[event.anchor] = frame
        return frame

    def _alias(self, event: Any) -> tuple[Any, Position]:
        found = self.anchors.get(event.anchor)
        if found is None:
            raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
        if not isinstance(found, tuple):
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor} is inside its own anchor's value", event.start_mark)
        return _copy(found[0]), found[1]

    def _add(self, frame: _Mapping, key: Any, value: Any, pos: Position) -> None:
        """A merge key's value, a key that is not a string, or a repeated key (an error)."""
        out = frame.out
        if key is MERGE_KEY:
            frame.merges.append((value, pos))
            return
        if not isinstance(key, str):
            key = scalar_text(key)
        if key in out:
            first = out.key_pos[key][1]
            written = frame.key_event.value if type(frame.key_event) is ScalarEvent else key
            raise SpecError(f'duplicate key "{written}" (first defined on line {first})',
                            where=str(Pos._make(frame.key_pos or frame.pos)))
        out[key] = value
        out.key_pos[key] = frame.key_pos  # type: ignore[assignment]
        out.value_pos[key] = pos

    def _finish(self, frame: _Mapping | _Sequence) -> Any:
        out: Any = frame.out
        if type(frame) is _Mapping and frame.merges:
            out = self._merged(frame)
        if frame.tag == "!reset":
            return Reset()
        return Override(out) if frame.tag == "!override" else out

    def _merged(self, frame: _Mapping) -> PosDict:
        """PyYAML's merge: ``<<`` mappings first (of a list, the first listed wins), then
        the mapping's own keys over them; key order is first appearance."""
        sources: list[PosDict] = []
        for value, pos in frame.merges:
            if isinstance(value, PosDict):
                sources.append(value)
                continue
            if not isinstance(value, PosList):
                raise _merge_error(frame, "a mapping or list of mappings", value, pos)
            for item, item_pos in zip(value, value.item_pos, strict=True):
                if not isinstance(item, PosDict):
                    raise _merge_error(frame, "a mapping", item, item_pos)
            sources.extend(reversed(value))
        out = PosDict(pos=frame.pos)
        for source in (*sources, frame.out):
            for key, value in source.items():
                out[key] = value
                out.copy_positions(source, key)
        return out


def _merge_error(frame: _Mapping, expected: str, value: Any, pos: Position | None) -> SpecError:
    """As PyYAML words it."""
    found = "sequence" if isinstance(value, PosList) else "mapping" if isinstance(value, PosDict) else "scalar"
    return SpecError(f"invalid YAML: expected {expected} for merging, but found {found} "
                     f"(while constructing a mapping started on line {frame.pos[1]})", where=str(Pos._make(pos or frame.pos)))


def _copy(value: Any) -> Any:
    """A deep copy of a tree, positions included (what an alias stands for)."""
    if isinstance(value, PosDict):
        out = PosDict({key: _copy(item) for key, item in value.items()}, pos=value.pos)
        out.key_pos, out.value_pos = dict(value.key_pos), dict(value.value_pos)
        return out
    if isinstance(value, PosList):
        items = PosList((_copy(item) for item in value), value.pos)
        items.item_pos = list(value.item_pos)
        return items
    if isinstance(value, Override):
        return Override(_copy(value.value))
    return value


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
