"""Read a stack file's YAML into `PosDict`/`PosList` trees that remember every position.

Plain block YAML, most stack files, is read by `composer.spec.blockyaml`: several times
faster, and PyYAML is not even imported. Anything else, and every error, is read by
libyaml (`composer.spec.yamlevents`). Both build the same tree: scalars resolved with
the YAML 1.2 core schema as Docker Compose (go-yaml v3) does, and the position of every
key, value and item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from composer.errors import SpecError
from composer.spec import blockyaml


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
    """The tree of *text* (named *name* in positions), or a SpecError at its first YAML error."""
    try:
        tree = blockyaml.read(text, name)
    except blockyaml.Unsupported:
        from composer.spec import yamlevents

        return yamlevents.load_text(text, name)
    if tree is not None:
        tree.merge_tags = False  # plain block YAML has no tags
    return tree
