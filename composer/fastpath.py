"""`up -d` with nothing to do, and `config -q`, answered before typer is imported.

A repeated `up -d` on an unchanged stack is the command developers run most, and
`config -q` the one scripts and CI run to check a stack; their floor is the interpreter
plus the CLI framework (typer and click: tens of ms of imports and command building).
Only these exact shapes are taken here, everything else goes to the full CLI:

    pycompose [-f FILE]... [-p NAME] [--project-directory DIR] [--profile P]... [--env-file F]
              (up (-d|--detach) [--remove-orphans] | config (-q|--quiet) [--no-consistency])

The stack inputs, the engine and the loading come from the same functions the CLI
uses (composer.inputs), and the decision is `composer.noop.up_if_unchanged`: on any
doubt (no cached outline, a change, an error) the full CLI runs the command from
scratch, and reports the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

_GLOBALS = {"-f": "files", "--file": "files", "-p": "project_name", "--project-name": "project_name",
            "--project-directory": "project_directory", "--profile": "profiles", "--env-file": "env_file"}
_UP_FLAGS = {"-d", "--detach", "--remove-orphans"}
_CONFIG_FLAGS = {"-q", "--quiet", "--no-consistency"}


class NoopArgs(NamedTuple):  # not a dataclass: a third of the cost to define, on every run
    files: tuple[Path, ...] = ()
    project_name: str | None = None
    project_directory: Path | None = None
    profiles: tuple[str, ...] = ()
    env_file: Path | None = None
    remove_orphans: bool = False
    consistency: bool = True  # config: --no-consistency not given


def parse(argv: Sequence[str]) -> NoopArgs | None:
    """The arguments, if `argv` is exactly a detached `up` of the whole stack; else None."""
    found = _command(argv, "up", _UP_FLAGS)
    if found is None or not found[1] & {"-d", "--detach"}:
        return None
    args, flags = found
    return args._replace(remove_orphans="--remove-orphans" in flags)


def parse_config(argv: Sequence[str]) -> NoopArgs | None:
    """The arguments, if `argv` is exactly a `config -q` (validate only); else None."""
    found = _command(argv, "config", _CONFIG_FLAGS)
    if found is None or not found[1] & {"-q", "--quiet"}:
        return None
    args, flags = found
    return args._replace(consistency="--no-consistency" not in flags)


def _command(argv: Sequence[str], command: str, allowed: set[str]) -> tuple[NoopArgs, set[str]] | None:
    """The global options before *command* and its flags, if all are known; else None."""
    given: dict[str, list[str]] = {}
    i = 0
    while i < len(argv) and argv[i] != command:
        name, has_value, value = argv[i].partition("=")
        key = _GLOBALS.get(name)
        if key is None or (has_value and name.startswith("-") and not name.startswith("--")):
            return None
        if not has_value:
            i += 1
            if i >= len(argv):
                return None
            value = argv[i]
        given.setdefault(key, []).append(value)
        i += 1
    flags = set(argv[i + 1:])
    if i >= len(argv) or len(flags) != len(argv) - i - 1 or not flags <= allowed:
        return None
    return _args(given), flags


def _args(given: dict[str, list[str]]) -> NoopArgs:
    """Repeatable options in order; of the others, the last one given."""
    def last(key: str) -> str | None:
        return given[key][-1] if key in given else None

    directory, env_file = last("project_directory"), last("env_file")
    return NoopArgs(
        files=tuple(Path(f) for f in given.get("files", ())),
        project_name=last("project_name"),
        project_directory=Path(directory) if directory is not None else None,
        profiles=tuple(given.get("profiles", ())),
        env_file=Path(env_file) if env_file is not None else None,
    )


def noop_up(args: NoopArgs, environ: Mapping[str, str], cwd: Path) -> bool:
    """True when the stack was found running exactly as wanted (and reported so)."""
    from composer import upcache
    from composer.events import Events
    from composer.inputs import engine_from, stack_inputs_from
    from composer.noop import up_if_unchanged
    from composer.plan import PlanOptions

    inputs = stack_inputs_from(args.files, args.project_name, args.project_directory, args.profiles,
                               args.env_file, environ, cwd)
    engine = engine_from(environ)
    cached = upcache.load(engine.run_root, inputs) if inputs is not None else None
    if cached is None:
        return False
    return up_if_unchanged(engine, cached, Events(), PlanOptions(remove_orphans=args.remove_orphans))


def quiet_config(args: NoopArgs, environ: Mapping[str, str], cwd: Path) -> None:
    """Load and validate the stack as `config -q` does, printing its warnings; raises on
    any problem (the full CLI then reports it)."""
    from composer.inputs import load_validated, stack_inputs_from

    inputs = stack_inputs_from(args.files, args.project_name, args.project_directory, args.profiles,
                               args.env_file, environ, cwd)
    assert inputs is not None  # required: a missing stack file raises
    load_validated(inputs, inputs.env, consistency=args.consistency)
