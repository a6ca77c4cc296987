"""Stack files in, a validated `Project` out; and the project back out as a stack file.

This facade stays cheap to import: the loader (PyYAML, pydantic) is imported on
first use, so CLI commands that never load a stack do not pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from composer.errors import SpecError
from composer.spec.names import normalize_project_name

if TYPE_CHECKING:
    from composer.models import Project

__all__ = [
    "DEFAULT_FILES",
    "OVERRIDE_FILES",
    "find_files",
    "load_project",
    "load_tree",
    "normalize_project_name",
    "project_to_dict",
]

DEFAULT_FILES = (
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "stack.yaml",
)


# Read after the default file when present, as Docker Compose does (the first found).
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
    "stack.override.yaml",
)


def find_files(workdir: Path) -> list[Path]:
    """The first default stack file present in *workdir*, then its override file if any."""
    for name in DEFAULT_FILES:
        candidate = workdir / name
        if candidate.is_file():
            override = next((workdir / o for o in OVERRIDE_FILES if (workdir / o).is_file()), None)
            return [candidate] if override is None else [candidate, override]
    raise SpecError(f"no stack file found in {workdir} (looked for {', '.join(DEFAULT_FILES)})")


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
    """Load, merge (later files override) and validate *files* into a Project.

    *env* is the environment for interpolation and bare ``environment`` keys; the
    project directory is *workdir* or the first file's directory. Raises SpecError
    (or GraphError for dependency cycles) with file, line and column. With
    ``consistency=False`` cross-references, image-or-build and cycles are not
    checked (``--no-consistency``). Services with ``profiles:`` are kept only when one
    of them is in *profiles* (``*`` enables all), as Compose does. Variables come from
    *env* over the project directory's ``.env`` (or *env_file*, which must exist).
    """
    from composer.spec.loader import load_project as load

    return load(files, env=env, project_name=project_name, workdir=workdir, consistency=consistency,
                profiles=profiles, env_file=env_file)


def load_tree(
    files: Sequence[Path],
    *,
    env: Mapping[str, str],
    project_name: str | None = None,
    workdir: Path | None = None,
    profiles: Sequence[str] = (),
    env_file: Path | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The merged stack with ``${VAR}`` kept as written, and the warnings (``--no-interpolate``)."""
    from composer.spec.loader import load_tree as tree

    return tree(files, env=env, project_name=project_name, workdir=workdir, profiles=profiles,
                env_file=env_file)


def project_to_dict(project: Project) -> dict[str, Any]:
    """The resolved project in Compose's canonical long form, itself a valid stack file."""
    from composer.spec.output import project_to_dict as to_dict

    return to_dict(project)
