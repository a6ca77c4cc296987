"""What every command gets from the command line and the environment.

With composer/cli.py and composer/entry.py, this package is the only place that reads
os.environ, the working directory or argv: everything below gets plain arguments. The
global options (before the command) are kept in `G` by the app's callback.
"""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from composer.errors import PycomposeError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from composer.engine import Engine
    from composer.events import Events
    from composer.inputs import StackInputs
    from composer.models import Project
    from composer.operations import LoadedProject
    from composer.outline import StackOutline


class _Globals:
    files: list[Path] = []
    project_name: str | None = None
    project_directory: Path | None = None
    profiles: list[str] = []
    env_file: Path | None = None
    debug: bool = False


G = _Globals()


def engine() -> "Engine":
    from composer.inputs import engine_from

    return engine_from(os.environ)


def events() -> "Events":
    from composer.events import Events

    return Events()


def stack_inputs(files: list[Path] | None = None, project_name: str | None = None,
                 required: bool = True) -> "StackInputs | None":
    """Everything the loader depends on: the stack files (-f, or found), env, profiles, name."""
    from composer.inputs import stack_inputs_from

    return stack_inputs_from(files or G.files, project_name or G.project_name, G.project_directory, G.profiles,
                             G.env_file, os.environ, Path.cwd(), required)


def load(files: list[Path] | None = None, project_name: str | None = None, required: bool = True,
         inputs: "StackInputs | None" = None) -> "LoadedProject | None":
    """Load the stack named by -f (command or global) or found in the project directory."""
    from composer.operations import LoadedProject
    from composer.upcache import RecordingEnv

    inputs = inputs or stack_inputs(files, project_name, required)
    if inputs is None:
        return None
    env = RecordingEnv(inputs.env)
    return LoadedProject(load_validated(inputs, env), [Path(f) for f in inputs.files], env)


def load_validated(inputs: "StackInputs", env: "Mapping[str, str]", consistency: bool = True) -> "Project":
    """The validated project of *inputs*, its warnings printed (without the engine's imports)."""
    from composer.inputs import load_validated as load  # shared with the `config -q` fast path

    return load(inputs, env, consistency)


def explicit_project(project_name: str | None) -> str | None:
    """-p of the command, else the global one."""
    return project_name or G.project_name


def has_files(files: list[Path] | None) -> bool:
    """-f given, to the command or globally."""
    return bool(files or G.files)


def project_name_of(files: list[Path] | None, project_name: str | None) -> str:
    """-p alone is enough for commands that only look at what runs (ps, logs, exec)."""
    explicit = explicit_project(project_name)
    if explicit and not has_files(files):
        from composer.spec import normalize_project_name

        return normalize_project_name(explicit)
    stack = stack_outline(files, project_name)
    assert stack is not None
    return stack.project


def stack_outline(files: list[Path] | None, project_name: str | None, required: bool = True) -> "StackOutline | None":
    """The stack's outline: cached while nothing it came from changed, else loaded (and kept)."""
    from composer import upcache

    inputs = stack_inputs(files, project_name, required)
    if inputs is None:
        return None
    run_root = engine().run_root
    cached = upcache.load(run_root, inputs)
    if cached is not None:
        return cached
    loaded = load(inputs=inputs)
    assert loaded is not None
    return remember(run_root, inputs, loaded)


def remember(run_root: Path, inputs: "StackInputs", loaded: "LoadedProject") -> "StackOutline":
    """Keep the outline of a freshly loaded stack for the next commands (composer.upcache)."""
    from composer import upcache
    from composer.graph import start_order
    from composer.outline import outline

    stack = outline(loaded.project, start_order(loaded.project))
    upcache.save(run_root, inputs, loaded.project, stack, loaded.env)
    return stack


def int_option(flag: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PycomposeError(f'{flag}: "{value}" is not a number') from None


def colour(no_color: bool) -> bool:
    return not no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
