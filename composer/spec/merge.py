"""Merging stack files: later files override earlier ones, as the Compose spec says.

Mappings merge key by key; ``command``, ``entrypoint`` and ``healthcheck.test``
replace; keys that take one value or a list (``env_file``, ``dns``, ...) and other
lists are appended, leaving out entries equal to one already there. Then, as
compose-go, the lists of unique entries (``ports``, ``volumes``, ``secrets``, ...)
keep one entry per key, the last one, in the place of the first (`unicity`).
``!reset`` removes what earlier files set and ``!override`` replaces without
merging. Positions follow the value, so an error in an override file points into
that file.
"""

from __future__ import annotations

from typing import Any

from composer.spec.source import Override, PathPart, PosDict, PosList, Reset
from composer.spec.unicity import enforce_unicity

_REPLACE = frozenset({"command", "entrypoint"})
# Service keys whose value is one item or a list of them: merged as lists.
_ONE_OR_MANY = frozenset({"env_file", "label_file", "dns", "dns_search", "tmpfs"})


def merge_files(trees: list[PosDict], merge_tags: bool = True) -> PosDict:
    """Fold normalised file trees left to right; the result has no Reset/Override markers.

    ``merge_tags=False``: the files have no markers, the first tree is used as it is.
    """
    if not trees:
        return PosDict()
    result: PosDict = strip(trees[0]) if merge_tags else trees[0]
    enforce_unicity(result)
    for tree in trees[1:]:  # after each file, as compose-go: a later file can restore an entry
        result = _merge(result, tree, ())
        enforce_unicity(result)
    return result


def merge_service(base: PosDict, override: PosDict, name: str) -> PosDict:
    """*override* on top of *base* with the rules of ``services.<name>`` (for extends)."""
    merged: PosDict = _merge(strip(base), override, ("services", name))
    return merged


def strip(node: Any) -> Any:
    """Resolve merge markers in a tree no other file is merged into.

    Containers without markers below them are returned as they are (no copy).
    """
    if isinstance(node, Override):
        return strip(node.value)
    if isinstance(node, PosDict):
        kept = {key: strip(value) for key, value in node.items() if not isinstance(value, Reset)}
        if len(kept) == len(node) and all(kept[key] is value for key, value in node.items()):
            return node
        out = PosDict(kept, pos=node.pos)
        for key in kept:
            out.copy_positions(node, key)
        return out
    if isinstance(node, PosList):
        pairs = [(strip(v), p) for v, p in zip(node, node.item_pos, strict=False) if not isinstance(v, Reset)]
        if len(pairs) == len(node) and all(new is old for (new, _), old in zip(pairs, node, strict=False)):
            return node
        items = PosList((v for v, _ in pairs), node.pos)
        items.item_pos = [p for _, p in pairs]
        return items
    return node


def _merge(base: Any, override: Any, path: tuple[PathPart, ...]) -> Any:
    if isinstance(override, Override):
        return strip(override.value)
    if isinstance(base, PosDict) and isinstance(override, PosDict) and not _replaces(path):
        out = PosDict(pos=base.pos)
        for key, value in base.items():
            out[key] = value
            out.copy_positions(base, key)
        for key, value in override.items():
            if isinstance(value, Reset):
                out.pop(key, None)
                continue
            out[key] = _merge(base[key], value, (*path, key)) if key in base else strip(value)
            out.copy_positions(override, key)
        return out
    if _is_service_key(path, *_ONE_OR_MANY) and isinstance(base, str | PosList) and isinstance(override, str | PosList):
        base, override = _as_list(base), _as_list(override)
    if isinstance(base, PosList) and isinstance(override, PosList) and not _replaces(path):
        return _append_unique(base, override)
    return strip(override)


def _as_list(value: str | PosList) -> PosList:
    if isinstance(value, PosList):
        return value
    out = PosList([value])
    out.item_pos = [None]
    return out


def _replaces(path: tuple[PathPart, ...]) -> bool:
    if len(path) == 3 and path[0] == "services" and path[2] in _REPLACE:
        return True
    return len(path) == 4 and path[0] == "services" and path[2:] == ("healthcheck", "test")


def _is_service_key(path: tuple[PathPart, ...], *keys: str) -> bool:
    return len(path) == 3 and path[0] == "services" and path[2] in keys


def _append_unique(base: PosList, override: PosList) -> PosList:
    out = PosList(base, base.pos)
    out.item_pos = list(base.item_pos)
    for item, pos in zip(override, override.item_pos, strict=False):
        if isinstance(item, Reset) or item in out:  # compose-go: deep equality
            continue
        out.append(strip(item))
        out.item_pos.append(pos)
    return out
