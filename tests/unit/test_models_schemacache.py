"""The models' schema cache (composer.models.schemacache): a model built from a cached
schema is the model pydantic generates, and the cache is only used when it is safe to."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from composer.models import schemacache

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "reference" / "compose-corpus"

# Run in a fresh interpreter: imports the models (with the schemas from the cache, or
# generated), loads stacks, builds what is left, then records what pydantic made of each
# model, what they do, and how many model schemas pydantic generated.
SNAPSHOT = r"""
import inspect, json, re, sys
from pathlib import Path
from pydantic._internal import _generate_schema

generated = []
original = _generate_schema.GenerateSchema._model_schema
def counting(self, cls, *args, **kwargs):
    generated.append(cls)
    return original(self, cls, *args, **kwargs)
_generate_schema.GenerateSchema._model_schema = counting

import composer.models as models
from composer.errors import SpecError
from composer.spec import load_project, project_to_dict

every = models._subclasses(models.Model)
out = {"built_at_import": sorted(m.__qualname__ for m in every if m.__pydantic_complete__), "loads": {}}
for path in sys.argv[1:]:
    try:
        project = load_project([Path(path)], env={"HOME": "/home/u"}, project_name="p", consistency=False)
    except SpecError as error:
        out["loads"][path] = str(error)
    else:
        out["loads"][path] = [project_to_dict(project), project.model_dump_json()]
out["direct"] = [
    models.Healthcheck(test="true", interval="5s").model_dump(),
    models.Ulimit(soft=1, hard=2).model_dump_json(),
    repr(models.Resources()),
]
same_in_any_process = lambda text: re.sub(":[0-9]+'", ":'", re.sub(" at 0x[0-9a-f]+", "", text))
out["models"] = {}
for model in every:
    model.model_rebuild()
    out["models"][model.__qualname__] = {
        "schema": same_in_any_process(repr(model.__pydantic_core_schema__)),
        "signature": same_in_any_process(str(inspect.signature(model))),
        "attributes": sorted(k for k in vars(model) if k.startswith("__pydantic")),
        "types": [type(model.__pydantic_validator__).__name__, type(model.__pydantic_serializer__).__name__],
    }
out["generated"] = len(generated)
print(json.dumps(out, default=str))
"""


def _snapshot(cache_home: Path, files: list[Path], **env: str) -> dict[str, Any]:
    environ = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(REPO), **env}
    if "PYCOMPOSE_NO_SCHEMA_CACHE" not in env:
        environ.pop("PYCOMPOSE_NO_SCHEMA_CACHE", None)
    done = subprocess.run([sys.executable, "-c", SNAPSHOT, *map(str, files)], env=environ,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A first run (a miss: pydantic generates every model's schema, the cache is written),
    a second one (a hit), and one with the cache turned off, on the same stacks."""
    cache_home = tmp_path_factory.mktemp("cache")
    bad = tmp_path_factory.mktemp("bad")
    (bad / "a.yaml").write_text("services:\n  web:\n    image: x\n    restart: sometimes\n")
    (bad / "b.yaml").write_text("services:\n  web:\n    image: x\n    deploy: {resources: {limits: {cpus: many}}}\n")
    files = [CORPUS / "compose-go" / "loader" / "full-example.yml", bad / "a.yaml", bad / "b.yaml"]
    return {
        "miss": _snapshot(cache_home, files),
        "hit": _snapshot(cache_home, files),
        "off": _snapshot(tmp_path_factory.mktemp("unused"), files, PYCOMPOSE_NO_SCHEMA_CACHE="1"),
    }


def test_a_hit_generates_no_model_schema(snapshots: dict[str, dict[str, Any]]) -> None:
    assert snapshots["miss"]["generated"] > 0 and snapshots["off"]["generated"] > 0
    assert snapshots["hit"]["generated"] == 0  # not even to build every model at the end


def test_models_from_cached_schemas_are_the_models_pydantic_generates(
        snapshots: dict[str, dict[str, Any]]) -> None:
    miss, hit, off = snapshots["miss"], snapshots["hit"], snapshots["off"]
    assert hit["models"] == miss["models"]  # schema, signature, attributes, validator types
    assert hit["models"]["Service"]["types"] == ["SchemaValidator", "SchemaSerializer"]
    # Without the cache each model is built on first use, so some schemas inline a nested
    # model that the miss run (building them all, nested ones first) refers to instead:
    # the same validation (next test), told apart here only by the schema's shape.
    for name, model in off["models"].items():
        assert {**model, "schema": None} == {**miss["models"][name], "schema": None}


def test_models_from_cached_schemas_do_what_generated_ones_do(snapshots: dict[str, dict[str, Any]]) -> None:
    miss, hit, off = snapshots["miss"], snapshots["hit"], snapshots["off"]
    assert hit["loads"] == miss["loads"] == off["loads"]
    assert hit["direct"] == miss["direct"] == off["direct"]
    loads = list(miss["loads"].values())
    assert "services" in loads[0][0]  # (the stack did load)
    assert "restart" in loads[1] and "cpus" in loads[2]  # (and the bad ones were refused)


def test_models_are_built_on_first_use_but_those_used_in_threads(snapshots: dict[str, dict[str, Any]]) -> None:
    eager = ["Healthcheck", "ResourceLimits", "ResourceReservations", "Resources"]
    assert snapshots["hit"]["built_at_import"] == snapshots["off"]["built_at_import"] == eager
    assert len(snapshots["miss"]["built_at_import"]) == len(snapshots["miss"]["models"])  # (to write them)


def _cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A cache written by a fresh interpreter into *tmp_path*, and its key."""
    _snapshot(tmp_path, [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PYCOMPOSE_NO_SCHEMA_CACHE", raising=False)
    key = schemacache._key()
    path = schemacache._cache_path(key)
    assert path is not None and path.exists()
    return path, key


def test_a_cache_others_may_write_to_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, key = _cache_file(tmp_path, monkeypatch)
    assert schemacache._read(path, key) is not None
    path.chmod(0o620)
    assert schemacache._read(path, key) is None
    path.chmod(0o600)
    path.parent.chmod(0o777)
    try:
        assert schemacache._read(path, key) is None
    finally:
        path.parent.chmod(0o700)


def test_a_cache_for_other_code_or_a_corrupt_one_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, key = _cache_file(tmp_path, monkeypatch)
    assert schemacache._read(path, key + "\nspec/values.py 1 2") is None
    path.write_bytes(path.read_bytes()[:1000])
    assert schemacache._read(path, key) is None


def test_the_key_follows_the_sources_and_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for sub in ("models", "spec"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(schemacache, "_PACKAGE", tmp_path)
    first = schemacache._key()
    assert schemacache._key() == first
    os.utime(tmp_path / "spec" / "a.py", ns=(1, 1))
    assert schemacache._key() != first
    monkeypatch.setattr(schemacache.pydantic, "VERSION", "0.0")
    assert "0.0" in schemacache._key()


def test_no_home_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    assert schemacache.cache_dir() is None
    monkeypatch.setenv("HOME", "relative")
    assert schemacache.cache_dir() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "/c")
    assert schemacache.cache_dir() == Path("/c/pycompose")
    monkeypatch.setenv("PYCOMPOSE_NO_SCHEMA_CACHE", "1")
    assert schemacache._cache_path("k") is None


def test_a_home_that_does_not_exist_is_not_made(tmp_path: Path) -> None:
    home = tmp_path / "nonexistent"
    assert not schemacache._usable(home / ".cache" / "pycompose")
    assert not home.exists()
    home.mkdir()
    assert schemacache._usable(home / ".cache" / "pycompose")
    assert (home / ".cache" / "pycompose").is_dir()


def test_a_schema_naming_what_is_gone_is_generated_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    class Gone(BaseModel):
        x: int = 0

    pickled = pickle.dumps({"function": sys.modules[__name__]._gone_helper})  # type: ignore[attr-defined]
    monkeypatch.delattr(sys.modules[__name__], "_gone_helper")  # (renamed since the cache was written)
    monkeypatch.setitem(schemacache._schemas, f"{Gone.__module__}.{Gone.__qualname__}", pickled)
    assert schemacache.schema_of(Gone) is None
    assert f"{Gone.__module__}.{Gone.__qualname__}" not in schemacache._schemas


def _gone_helper() -> None:
    """Pickled by name in the test above, then removed."""


def test_a_home_someone_else_can_change_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sudo -E`: HOME is the user's home, the process root's. No cache is read or written
    there, and no root-owned ~/.cache is left in it."""
    home = tmp_path / "home"
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, 4242, 4242)
    else:
        monkeypatch.setattr(schemacache.os, "geteuid", lambda: 4242)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("PYCOMPOSE_NO_SCHEMA_CACHE", raising=False)
    assert schemacache._cache_path(schemacache._key()) is None
    schemacache.load([])
    assert list(home.iterdir()) == []
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(open_to_all / "sub"))
    assert schemacache._cache_path(schemacache._key()) is None


def test_a_source_file_that_cannot_be_read_is_no_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor's lock link (emacs: `.#values.py`, dangling) is no source; a listing that
    fails is no cache (the models are generated), not a traceback on import."""
    for sub in ("models", "spec"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(schemacache, "_PACKAGE", tmp_path)
    first = schemacache._key()
    (tmp_path / "spec" / ".#a.py").symlink_to("user@host.1:2")
    assert schemacache._key() == first
    monkeypatch.setattr(schemacache, "_PACKAGE", tmp_path / "gone")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PYCOMPOSE_NO_SCHEMA_CACHE", raising=False)
    schemacache.load([])
    assert not (tmp_path / "cache").exists()
