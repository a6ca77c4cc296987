"""Read a stack file's YAML into `PosDict`/`PosList` trees that remember every position.

Plain block YAML, most stack files, is read by `composer.spec.blockyaml`: over twice as
fast on large files, and PyYAML is not even imported. Anything else, and every error, by
libyaml (`composer.spec.yamlevents`). Both build the same tree: scalars resolved with
the YAML 1.2 core schema as Docker Compose (go-yaml v3) does, and the position of every
key, value and item.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from composer.errors import SpecError
from composer.spec import blockyaml
from composer.spec.interpolate import Interpolator, interpolate_tree
from composer.spec.source import PosDict
from composer.spec.values import InvalidValue


def load_file(path: Path, interpolator: Interpolator | None = None) -> Any:
    """Parse *path*; None for an empty document. Raises SpecError with a position.

    With *interpolator*, string values are interpolated too (the next phase, done while
    reading when the fast reader reads the file).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"stack file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from None
    if interpolator is None:
        return load_text(text, str(path))
    try:
        return _read_block(text, str(path), interpolator.substitute)
    except (blockyaml.Unsupported, InvalidValue):  # errors are reported, all together, by the walk
        raw = load_text(text, str(path))
        tree = interpolate_tree(raw, interpolator)
        if tree is not raw and isinstance(raw, PosDict):  # (a document that is not a mapping
            tree.merge_tags = raw.merge_tags                 # is reported by the caller)
        return tree


def load_text(text: str, name: str) -> Any:
    """The tree of *text* (named *name* in positions), or a SpecError at its first YAML error."""
    try:
        return _read_block(text, name, None)
    except blockyaml.Unsupported:
        from composer.spec import yamlevents

        return yamlevents.load_text(text, name)


def _read_block(text: str, name: str, substitute: Callable[[str], str] | None) -> PosDict | None:
    """`blockyaml.read`, the tree marked as free of !reset/!override (plain block YAML has no tags)."""
    tree = blockyaml.read(text, name, substitute)
    if tree is not None:
        tree.merge_tags = False
    return tree
