"""The models' pydantic core schemas, cached on disk between runs.

pydantic builds a model's validator on first use, generating its core schema in Python
first: for `Service` and the ~45 models inside it that is ~35 ms of every command that
loads a stack, and ~60 ms on first use for them all. A core schema only depends on the
models' code and on the versions of pydantic, pydantic-core and Python, so, as Python
caches bytecode in ``__pycache__``, the models' schemas are cached in
``$XDG_CACHE_HOME/pycompose`` (else ``~/.cache/pycompose``), keyed by those versions and
the size and modification time of every source file under ``composer/models`` and
``composer/spec`` (the models and the functions their validators call).

pydantic still completes each model itself (validator, serializer, signature...), on
first use as without a cache: `Model.__get_pydantic_core_schema__`, pydantic's hook for
a type's own schema, hands it the cached schema instead of letting it generate one
(a few ms for Service instead of ~35). Functions and classes in a schema are pickled by
name: a renamed one makes the cache unreadable, which is a miss. A unit test checks
that models completed from the cache are the models pydantic generates
(`tests/unit/test_models_schemacache.py`).

A cache file is used only if it and its directory belong to the effective user and are
writable by no one else (unpickling runs code named in the file), and the directories
above it belong to that user or root and are writable by no one else (but root's sticky
ones, as /tmp): under `sudo -E`, a HOME that is another user's home is not used, nor
is a ``.cache`` made in it that its owner could not write to. Any problem reading
or writing the cache is a miss: pydantic then generates the schemas, as without a
cache, and the first process to do so writes them.
"""

from __future__ import annotations

import binascii
import os
import pickle
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core
from pydantic import BaseModel

FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent.parent  # composer/
_SOURCES = ("models", "spec")
_DISABLE = "PYCOMPOSE_NO_SCHEMA_CACHE"  # set (non-empty): never read or write the cache

# The cached core schema of each model, by qualified name, pickled: unpickled anew for each
# use, as pydantic may change the schema it is given (it inlines definitions in place).
_schemas: dict[str, bytes] = {}


def load(models: Sequence[type[BaseModel]], *, eager: Iterable[type[BaseModel]] = ()) -> None:
    """Read the schemas of *models* from the cache, and build the *eager* ones (models
    built where threads may run: pydantic's first-use build is not thread-safe). On a
    miss, build them all and write the cache, if it can be kept."""
    try:
        key = _key()
    except OSError:  # a source file gone while listed, say: no cache this time
        key = ""
    path = _cache_path(key) if key else None
    cached = _read(path, key) if path is not None else None
    if cached is not None:
        _schemas.update(cached)
    elif path is not None and _usable(path.parent):
        _build(models)
        _write(path, key, models)
        return
    _build(eager)


def schema_of(model: type[BaseModel]) -> dict[str, Any] | None:
    """The cached core schema of *model* (a new copy), or None (pydantic generates it)."""
    pickled = _schemas.get(_name(model))
    if pickled is None:
        return None
    try:
        schema: dict[str, Any] = pickle.loads(pickled)
    except Exception:  # noqa: BLE001 - e.g. a function renamed since: pydantic generates it
        _schemas.pop(_name(model), None)
        return None
    return schema


def cache_dir() -> Path | None:
    """Where the cache lives (None: no home directory to keep it in)."""
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.environ["HOME"], ".cache") if os.environ.get("HOME") else "")
    return Path(base, "pycompose") if os.path.isabs(base) else None


def _cache_path(key: str) -> Path | None:
    if os.environ.get(_DISABLE):
        return None
    directory = cache_dir()
    if directory is None or not _safe_place(directory):
        return None
    # The name only tells keys apart cheaply; the file holds the whole key, checked on reading.
    return directory / f"models-{binascii.crc32(key.encode()):08x}.pickle"


def _safe_place(directory: Path) -> bool:
    """Whether only the effective user and root can change what is in *directory*: each
    directory above it (symbolic links resolved) that exists belongs to either and is
    writable by no one else, but a sticky one of root's (where no one else can move or
    remove what is not theirs)."""
    resolved = Path(os.path.realpath(directory))
    for place in (resolved, *resolved.parents):
        try:
            info = os.stat(place)
        except FileNotFoundError:
            continue  # made by `_usable`
        except OSError:
            return False
        if info.st_uid not in (os.geteuid(), 0):
            return False
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (info.st_uid == 0 and info.st_mode & stat.S_ISVTX):
            return False
    return True


def _key() -> str:
    """The versions and every source file's size and modification time (as .pyc files)."""
    lines = [f"{FORMAT} {sys.version} {pydantic.VERSION} {pydantic_core.__version__} {_PACKAGE}"]
    for sub in _SOURCES:
        with os.scandir(_PACKAGE / sub) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                # (Not a hidden name: no module, maybe an editor's dangling lock link, `.#x.py`.)
                if entry.name.endswith(".py") and not entry.name.startswith("."):
                    info = entry.stat()
                    lines.append(f"{sub}/{entry.name} {info.st_size} {info.st_mtime_ns}")
    return "\n".join(lines)


def _name(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def _build(models: Iterable[type[BaseModel]]) -> None:
    for model in models:
        model.model_rebuild()


def _trusted(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _usable(directory: Path) -> bool:
    """Whether the cache can be kept in *directory*, made if need be below a directory that
    exists (the home: a HOME that does not exist, as nobody's, is not made)."""
    if not directory.parent.parent.is_dir():
        return False
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return _trusted(os.stat(directory)) and os.access(directory, os.W_OK)
    except OSError:
        return False


def _read(path: Path, key: str) -> dict[str, bytes] | None:
    try:
        with open(path, "rb") as file:
            if not (_trusted(os.fstat(file.fileno())) and _trusted(os.stat(path.parent))):
                return None
            written_for, cached = pickle.load(file)
    except Exception:  # noqa: BLE001 - missing, unreadable or corrupt: a miss
        return None
    if written_for != key or not isinstance(cached, dict):
        return None
    return cached


def _write(path: Path, key: str, models: Sequence[type[BaseModel]]) -> None:
    """Write the schemas of *models* to *path* (atomically), and remove older caches."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        schemas = {_name(m): _pickled(m.__pydantic_core_schema__) for m in models if m.__pydantic_complete__}
        data = _pickled((key, schemas))
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
        _prune(path.parent)
    except Exception:  # noqa: BLE001 - no cache (read-only home, unpicklable schema): only slower
        temporary.unlink(missing_ok=True)


def _pickled(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _prune(directory: Path, keep: int = 8) -> None:
    """Remove all but the *keep* newest caches (each code change writes one; several
    checkouts may be in use at once)."""
    caches = sorted(directory.glob("models-*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in caches[keep:]:
        old.unlink(missing_ok=True)
