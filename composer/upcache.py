"""A cache of the validated stack, so that an `up -d` with nothing to do stays fast.

Loading a stack imports PyYAML, pydantic and the loader (~400 ms on a 2-core VM) before
any work is done. A repeated `up -d` on an unchanged file needs none of it: only each
service's document (what its config hash is made of), its image reference, its
dependencies and networks. Those are cached in the run root, keyed by the loader's
inputs: the stack files as given, profiles, project name and directory, and the
loader's own code. On use, every file the loader read (includes and extends too) must
still have the same content, and every environment variable it looked up (see
`RecordingEnv`) the same value, or the cache is not used. A miss or any doubt falls
back to the full load, so the cache can only save time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from composer.outline import StackOutline

if TYPE_CHECKING:
    from composer.inputs import StackInputs
    from composer.models import Project

FORMAT = 3
_CODE = ("composer/models", "composer/hashing.py", "composer/desired.py", "composer/outline.py",
         "composer/support.py", "composer/spec")


class RecordingEnv(Mapping[str, str]):
    """The environment as the loader sees it, remembering each variable it looked up
    (and whether it is set), so a cached load is reused exactly while those are unchanged."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.consulted: dict[str, str | None] = {}
        self.everything = False  # the loader walked the whole environment

    def __getitem__(self, key: str) -> str:
        value = self._env.get(key)
        self.consulted[key] = value
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        self.everything = True
        return iter(self._env)

    def __len__(self) -> int:
        self.everything = True
        return len(self._env)


def _code_fingerprint() -> list[tuple[str, int]]:
    root = Path(__file__).resolve().parent.parent
    stamps: list[tuple[str, int]] = []
    for relative in _CODE:
        path = root / relative
        entries = sorted(path.glob("*.py")) if path.is_dir() else [path]
        stamps.extend((str(e.relative_to(root)), e.stat().st_mtime_ns) for e in entries)
    return stamps


def _sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _digest(inputs: StackInputs) -> str:
    document = {
        "format": FORMAT,
        "code": _code_fingerprint(),
        "files": inputs.files,
        "profiles": inputs.profiles,
        "project_name": inputs.project_name,
        "workdir": inputs.workdir,
        "env_file": inputs.env_file,
    }
    return hashlib.sha256(json.dumps(document).encode()).hexdigest()


def _path(run_root: Path, inputs: StackInputs) -> Path:
    return run_root / "cache" / f"stack-{_digest(inputs)}.json"


def save(run_root: Path, inputs: StackInputs, project: Project, stack: StackOutline,
         env: RecordingEnv) -> None:
    """Record the validated project's outline (best effort: a cache that cannot be written
    is no error). `env` is what the loader was given: its record of looked-up variables
    goes along."""
    if env.everything:
        return  # keyed on the whole environment the cache would hardly ever hit: keep none
    document = {
        "sources": {source: _sha256(source) for source in project.sources},
        "env": env.consulted,
        "outline": stack.to_document(),
    }
    path = _path(run_root, inputs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(document))
        os.replace(tmp, path)
    except OSError:
        pass


def load(run_root: Path, inputs: StackInputs) -> StackOutline | None:
    """The cached outline, if there is one for these inputs and nothing it came from changed."""
    try:
        document = json.loads(_path(run_root, inputs).read_text())
        if not document["sources"] or any(_sha256(p) != h for p, h in document["sources"].items()):
            return None
        if any(inputs.env.get(name) != value for name, value in document["env"].items()):
            return None
        return StackOutline.from_document(document["outline"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
