"""`load_project`: stack files in, one validated `Project` out.

Phases, each a small module: read YAML with positions (`source`) → interpolate
(`interpolate`) → per-file normalisation (`normalize`) → merge files (`merge`) →
key check: unknown keys fail, unsupported ones warn (`keys`) → models (`validate`)
→ cross-references and cycles (`references`). Pure: the environment and the
directory come in as arguments; nothing reads or changes process state.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from composer.errors import SpecError
from composer.models import Network, Project, Service, Volume
from composer.spec.interpolate import Interpolator, interpolate_tree
from composer.spec.keys import NETWORK, SERVICE, TOP_KEYS, VOLUME, KeyChecker
from composer.spec.merge import merge_files
from composer.spec.normalize import FileNormalizer
from composer.spec.references import check_references
from composer.spec.source import PosDict, load_file, spec_error
from composer.spec.validate import build

_SUPPORTED_TOP = frozenset({"name", "services", "networks", "volumes"})


def load_project(
    files: Sequence[Path],
    *,
    env: Mapping[str, str],
    project_name: str | None = None,
    workdir: Path | None = None,
) -> Project:
    if not files:
        raise SpecError("no stack file given")
    project_dir = os.path.abspath(workdir if workdir is not None else files[0].parent)
    interpolator = Interpolator(env)
    warnings: list[str] = []
    trees: list[PosDict] = []
    for path in files:
        raw = load_file(path)
        if raw is None:
            warnings.append(f"{path}: file is empty")
        tree = interpolate_tree(raw, interpolator)
        normalizer = FileNormalizer(tree, project_dir, env.get("HOME"))
        trees.append(normalizer.normalize())
        warnings.extend(normalizer.warnings)
    root = merge_files(trees)
    warnings[:0] = interpolator.warnings()
    project = _build_project(root, env, project_name, project_dir, warnings)
    return project


def _build_project(
    root: PosDict,
    env: Mapping[str, str],
    explicit_name: str | None,
    project_dir: str,
    warnings: list[str],
) -> Project:
    checker = KeyChecker(root, warnings)
    _check_top_keys(root, checker)
    raw_services: PosDict = root.get("services") or PosDict()
    builds = {
        name for name, svc in raw_services.items() if isinstance(svc, dict) and "build" in svc
    }
    services = {name: _service(root, checker, name, raw, env) for name, raw in raw_services.items()}
    networks = {
        name: build(
            Network, checker.check(raw, NETWORK, ("networks", name)), root, ("networks", name)
        )
        for name, raw in (root.get("networks") or {}).items()
    }
    volumes = {
        name: build(Volume, checker.check(raw, VOLUME, ("volumes", name)), root, ("volumes", name))
        for name, raw in (root.get("volumes") or {}).items()
    }
    networks = {name: _external_name(name, net) for name, net in networks.items()}
    volumes = {name: _external_name(name, vol) for name, vol in volumes.items()}
    services = check_references(root, services, set(networks), set(volumes), builds, warnings)
    if any("default" in svc.networks for svc in services.values()):
        networks.setdefault("default", Network())
    name = _project_name(root, explicit_name, project_dir, warnings)
    return Project(
        name=name,
        working_dir=project_dir,
        services=services,
        networks=networks,
        volumes=volumes,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _check_top_keys(root: PosDict, checker: KeyChecker) -> None:
    for key in root:
        if key.startswith("x-") or key in _SUPPORTED_TOP:
            continue
        if key not in TOP_KEYS:
            raise checker.unknown((key,), key, TOP_KEYS)
        if key == "version":
            checker.warnings.append("version: obsolete, ignored")
        else:
            checker.warnings.append(f"{key}: not supported yet, ignored")


def _service(
    root: PosDict, checker: KeyChecker, name: str, raw: Any, env: Mapping[str, str]
) -> Service:
    path = ("services", name)
    data = checker.check(raw, SERVICE, path)
    if isinstance(data, PosDict):
        environment = data.get("environment")
        if isinstance(environment, dict) and None in environment.values():
            # A bare KEY takes its value from the shell environment (None when unset).
            data["environment"] = {
                k: env.get(k) if v is None else v for k, v in environment.items()
            }
        if not data.get("networks"):
            data["networks"] = {"default": None}
    return build(Service, data, root, path)


def _external_name(key: str, model: Any) -> Any:
    if model.external and model.name is None:
        return model.model_copy(update={"name": key})
    return model


_INVALID = re.compile(r"[^a-z0-9_-]")


def normalize_project_name(raw: str) -> str:
    """Compose's rule: lowercase, keep ``[a-z0-9_-]``, start with a letter or digit."""
    return _INVALID.sub("", raw.lower()).lstrip("_-")


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
    hint = "use lowercase letters, digits, dashes and underscores, starting with a letter or digit"
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
