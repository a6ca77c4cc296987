"""What a command's stack and engine come from: files, environment, directory (no typer).

Shared by the CLI and its typer-free fast path (composer.fastpath), so both compute the
same cache key for the same command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from composer.errors import PycomposeError

if TYPE_CHECKING:
    from composer.engine import Engine
    from composer.models import Project


class StackInputs(NamedTuple):  # not a dataclass: a third of the cost to define, on every run
    """What the loader is given; the key of `composer.upcache`'s cache (with its env record)."""

    files: tuple[str, ...]
    env: Mapping[str, str]
    profiles: tuple[str, ...]
    project_name: str | None
    workdir: str | None
    env_file: str | None = None


def engine_from(environ: Mapping[str, str]) -> Engine:
    """The engine on the state roots the environment names (PYCOMPOSE_ROOT, ...)."""
    from composer.engine import DEFAULT_CGROUP_PARENT, DEFAULT_DATA_ROOT, DEFAULT_RUN_ROOT, Engine

    return Engine(
        data_root=Path(environ.get("PYCOMPOSE_ROOT") or DEFAULT_DATA_ROOT),
        run_root=Path(environ.get("PYCOMPOSE_RUN_ROOT") or DEFAULT_RUN_ROOT),
        cgroup_parent=environ.get("PYCOMPOSE_CGROUP_PARENT") or DEFAULT_CGROUP_PARENT,
        subnet_pool=environ.get("PYCOMPOSE_SUBNET_POOL") or None,
        dns_upstreams=tuple(u for u in environ.get("PYCOMPOSE_DNS_UPSTREAMS", "").split(",") if u),
    )


def stack_inputs_from(files: Sequence[Path], project_name: str | None, project_directory: Path | None,
                      profiles: Sequence[str], env_file: Path | None, environ: Mapping[str, str], cwd: Path,
                      required: bool = True) -> StackInputs | None:
    """Everything the loader depends on: the stack files (-f, or found), env, profiles, name."""
    from composer.spec import find_files

    workdir = (project_directory or cwd).absolute()
    if not files and environ.get("COMPOSE_FILE"):  # as Compose: a list, COMPOSE_PATH_SEPARATOR or ":"
        separator = environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        files = [Path(f) for f in environ["COMPOSE_FILE"].split(separator) if f]
    chosen = [f if f.is_absolute() else cwd / f for f in files]
    if not chosen:
        try:
            chosen = find_files(workdir)
        except PycomposeError:
            if required:
                raise
            return None
    return StackInputs(
        files=tuple(str(f) for f in chosen),
        env=dict(environ),
        profiles=tuple(profiles or [p for p in environ.get("COMPOSE_PROFILES", "").split(",") if p]),
        project_name=project_name or environ.get("COMPOSE_PROJECT_NAME"),
        workdir=str(project_directory.absolute()) if project_directory else None,
        env_file=str(env_file.absolute()) if env_file else None,
    )


def load_validated(inputs: StackInputs, env: Mapping[str, str], consistency: bool = True) -> Project:
    """The validated project of *inputs*, its warnings printed (without the engine's imports)."""
    from composer.spec import load_project

    project = load_project(
        [Path(f) for f in inputs.files], env=env, project_name=inputs.project_name,
        workdir=Path(inputs.workdir) if inputs.workdir else None, profiles=inputs.profiles,
        env_file=Path(inputs.env_file) if inputs.env_file else None, consistency=consistency,
    )
    for warning in project.warnings:
        print(f"WARN: {warning}", file=sys.stderr)
    return project
