"""`load_project`: stack files in, one validated `Project` out.

Phases, each a small module: read YAML with positions (`yamlfile`) → interpolate
(`interpolate`) → per-file normalisation (`normalize`) → merge files and keep one
entry per key in unique lists (`merge`, `unicity`) → key check: unknown keys fail,
unsupported ones warn (`keys`) → models (`validate`) → cross-references and cycles
(`references`). Pure: the environment and the
directory come in as arguments; nothing reads or changes process state (the cyclic
garbage collector is only paused while a load runs).
"""

from __future__ import annotations

import gc
import os.path
from collections import ChainMap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from composer.errors import SpecError, spec_errors
from composer.models import Config, ModelDefinition, Network, Project, Secret, Service, Volume
from composer.spec.dotenv import read_dotenv, read_env_files, read_label_files
from composer.spec.files import FileLoader
from composer.spec.interpolate import Interpolator
from composer.spec.keys import NETWORK, SERVICE, TOP_KEYS, VOLUME, KeyChecker
from composer.spec.merge import merge_files
from composer.spec.names import NAME_HINT, normalize_project_name
from composer.spec.netrules import check_network_settings
from composer.spec.references import check_references
from composer.spec.source import PosDict, spec_error
from composer.spec.validate import build

_SUPPORTED_TOP = frozenset({"name", "services", "networks", "volumes", "secrets", "configs", "models"})
_RESOURCES: dict[str, Any] = {"secrets": Secret, "configs": Config, "models": ModelDefinition}


def load_project(
    files: Sequence[Path],
    *,
    env: Mapping[str, str],
    project_name: str | None = None,
    workdir: Path | None = None,
    consistency: bool = True,
    profiles: Sequence[str] = (),
    env_file: Path | None = None,
) -> Project:
    with _no_cycle_collection():
        read = _read(files, env, workdir, profiles, env_file, interpolate=True)
        project = _build_project(read.root, read.env, project_name, read.project_dir, read.warnings, consistency)
    # The .env file counts as a source even when absent: one appearing changes the stack.
    return project.model_copy(update={"sources": (*read.sources, *project.sources)})


def load_tree(
    files: Sequence[Path],
    *,
    env: Mapping[str, str],
    project_name: str | None = None,
    workdir: Path | None = None,
    profiles: Sequence[str] = (),
    env_file: Path | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The merged stack with variables as written (``config --no-interpolate``), and warnings.

    Files are merged, includes, extends and profiles applied and keys checked (unknown
    ones fail), but values are not typed: a typed value may still be a ``${VAR}``.
    """
    read = _read(files, env, workdir, profiles, env_file, interpolate=False)
    checker = KeyChecker(read.root, read.warnings, keep_all=True)
    _check_top_keys(read.root, checker)
    tree: dict[str, Any] = {}
    for section, shape in (("services", SERVICE), ("networks", NETWORK), ("volumes", VOLUME)):
        entries = read.root.get(section) or {}
        tree[section] = {name: checker.check(raw, shape, (section, name)) for name, raw in entries.items()}
    if checker.errors:
        raise spec_errors(checker.errors)
    for key, value in read.root.items():
        if key not in tree and key not in ("version", "include") and not key.startswith("x-"):
            tree[key] = value
    written = read.root.get("name")
    if isinstance(written, str) and "$" in written and not project_name:
        tree["name"] = written  # a variable: resolved only with interpolation
    else:
        tree["name"] = _project_name(read.root, project_name, read.project_dir, read.warnings)
    return tree, list(dict.fromkeys(read.warnings))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Loading makes tens of thousands of containers and no reference cycles: the cyclic
    garbage collector, triggered by the allocations, only costs time (~8% of a large load).

    Paused, it would still walk them all at the first allocation after the load (they
    are all in its youngest generation). So they are handed to the oldest one instead:
    `gc.freeze` and `gc.unfreeze` only splice lists (another ~8%).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


@dataclass
class _Read:
    root: PosDict
    env: Mapping[str, str]
    project_dir: str
    warnings: list[str]
    sources: tuple[str, ...]


def _read(files: Sequence[Path], env: Mapping[str, str], workdir: Path | None, profiles: Sequence[str],
          env_file: Path | None, *, interpolate: bool) -> _Read:
    """The phases up to the merged tree: .env, read, interpolate, normalise, merge, profiles."""
    if not files:
        raise SpecError("no stack file given")
    project_dir = os.path.abspath(workdir if workdir is not None else files[0].parent)
    dotenv_path = Path(os.path.abspath(env_file)) if env_file is not None else Path(project_dir, ".env")
    dotenv = read_dotenv(dotenv_path, env)
    if dotenv is None and env_file is not None:
        raise SpecError(f"env file {dotenv_path} not found")
    if dotenv:
        env = ChainMap(env, dotenv)  # type: ignore[arg-type]  # the shell's variables win
    interpolator = Interpolator(env)
    files_loader = FileLoader(interpolator, env.get("HOME"), interpolate)
    trees = [files_loader.load(path, project_dir) for path in files]
    warnings = files_loader.warnings
    root = merge_files(trees, merge_tags=files_loader.merge_tags)
    warnings[:0] = interpolator.warnings()
    _drop_inactive_profiles(root, frozenset(profiles))
    return _Read(root, env, project_dir, warnings, (*files_loader.sources, str(dotenv_path)))


def _build_project(
    root: PosDict,
    env: Mapping[str, str],
    explicit_name: str | None,
    project_dir: str,
    warnings: list[str],
    consistency: bool,
) -> Project:
    checker = KeyChecker(root, warnings)
    _check_top_keys(root, checker)
    env_files: list[str] = []  # every service env_file read: sources of the project
    raw_services: PosDict = root.get("services") or PosDict()
    builds = {
        name for name, svc in raw_services.items() if isinstance(svc, dict) and "build" in svc
    }
    # Each entry is checked on its own, so independent problems are reported together.
    problems = checker.errors
    services: dict[str, Service] = _each(problems, raw_services, lambda name, raw: _service(
        root, checker, name, raw, env, project_dir, env_files))
    networks: dict[str, Network] = _each(problems, root.get("networks"), lambda name, raw: _external_name(
        name, build(Network, checker.check(raw, NETWORK, ("networks", name)), root, ("networks", name))))
    volumes: dict[str, Volume] = _each(problems, root.get("volumes"), lambda name, raw: _external_name(
        name, build(Volume, checker.check(raw, VOLUME, ("volumes", name)), root, ("volumes", name))))
    resources = {
        section: _each(problems, root.get(section), lambda name, raw, model=model, section=section:
                       _external_name(name, build(model, raw, root, (section, name))))
        for section, model in _RESOURCES.items()
    }
    if problems:
        raise spec_errors(problems)
    if consistency:
        services = check_references(root, services, set(networks), set(volumes), builds, warnings,
                                    {section: set(entries) for section, entries in resources.items()})
        check_network_settings(root, services, networks)
    if any("default" in svc.networks for svc in services.values()):
        networks.setdefault("default", Network())
    name = _project_name(root, explicit_name, project_dir, warnings)
    return Project(
        name=name,
        working_dir=project_dir,
        services=services,
        networks=networks,
        volumes=volumes,
        **resources,
        warnings=tuple(dict.fromkeys(warnings)),
        sources=tuple(env_files),
    )


def _each(problems: list[SpecError], entries: Any, make: Any) -> dict[str, Any]:
    """``make(name, raw)`` for each entry; a SpecError is added to *problems* instead."""
    out: dict[str, Any] = {}
    for name, raw in (entries or {}).items():
        try:
            out[name] = make(name, raw)
        except SpecError as error:
            problems.append(error)
    return out


def _drop_inactive_profiles(root: PosDict, active: frozenset[str]) -> None:
    """Remove services none of whose `profiles` is active; those without profiles always stay.

    A service that depends on a removed one then fails the reference check, as in Compose.
    """
    services = root.get("services")
    if not isinstance(services, dict) or "*" in active:
        return
    for name in list(services):
        wanted = services[name].get("profiles") if isinstance(services[name], dict) else None
        if isinstance(wanted, list) and wanted and not active.intersection(map(str, wanted)):
            del services[name]


def _check_top_keys(root: PosDict, checker: KeyChecker) -> None:
    for key in root:
        if key.startswith("x-") or key in _SUPPORTED_TOP:
            continue
        if key not in TOP_KEYS:
            checker.errors.append(checker.unknown((key,), key, TOP_KEYS))
            continue
        if key == "version":
            checker.warnings.append("version: obsolete, ignored")
        else:
            checker.warnings.append(f"{key}: not supported yet, ignored")


def _service(
    root: PosDict, checker: KeyChecker, name: str, raw: Any, env: Mapping[str, str],
    project_dir: str, env_files: list[str],
) -> Service:
    path = ("services", name)
    data = checker.check(raw, SERVICE, path)
    if isinstance(data, PosDict):
        data = data.clone()  # changed below: the merged tree keeps the positions of errors
        environment = data.get("environment")
        if isinstance(environment, dict) and None in environment.values():
            # A bare KEY takes its value from the shell environment (None when unset).
            data["environment"] = {
                k: env.get(k) if v is None else v for k, v in environment.items()
            }
        if "env_file" in data:
            from_files = read_env_files(root, path, data.pop("env_file"), project_dir, env, env_files)
            data["environment"] = {**from_files, **(data.get("environment") or {})}
        if "label_file" in data:
            labels = read_label_files(root, path, data.pop("label_file"), project_dir, env, env_files)
            data["labels"] = {**labels, **(data.get("labels") or {})}
        if not data.get("networks") and "network_mode" not in data:
            data["networks"] = {"default": None}
    return build(Service, data, root, path)


def _external_name(key: str, model: Any) -> Any:
    if getattr(model, "external", False) and model.name is None:
        return model.model_copy(update={"name": key})
    return model


def _project_name(
    root: PosDict, explicit: str | None, project_dir: str, warnings: list[str]
) -> str:
    top = root.get("name")
    if explicit:
        raw, source = explicit, "-p"
    elif isinstance(top, str) and top:
        raw, source = top, "name"
    else:
        raw, source = os.path.basename(project_dir.rstrip("/")), "directory"
    name = normalize_project_name(raw)
    hint = NAME_HINT
    if not name:
        message = f'invalid project name "{raw}"'
        if source == "name":
            raise spec_error(root, ("name",), message, hint)
        if source == "directory":
            hint = "pass a name with -p or set name: in the stack file"
        raise SpecError(message, hint=hint)
    if name != raw and source != "directory":
        warnings.append(f'project name "{raw}" normalised to "{name}"')
    return name
