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
from dataclasses import dataclass, field
from pathlib import Path

_GLOBALS = {"-f": "files", "--file": "files", "-p": "project_name", "--project-name": "project_name",
            "--project-directory": "project_directory", "--profile": "profiles", "--env-file": "env_file"}
_UP_FLAGS = {"-d", "--detach", "--remove-orphans"}
_CONFIG_FLAGS = {"-q", "--quiet", "--no-consistency"}


@dataclass
class NoopArgs:
    files: list[Path] = field(default_factory=list)
    project_name: str | None = None
    project_directory: Path | None = None
    profiles: list[str] = field(default_factory=list)
    env_file: Path | None = None
    remove_orphans: bool = False
    consistency: bool = True  # config: --no-consistency not given


def parse(argv: Sequence[str]) -> NoopArgs | None:
    """The arguments, if `argv` is exactly a detached `up` of the whole stack; else None."""
    found = _command(argv, "up", _UP_FLAGS)
    if found is None or not found[1] & {"-d", "--detach"}:
        return None
    args, flags = found
    args.remove_orphans = "--remove-orphans" in flags
    return args


def parse_config(argv: Sequence[str]) -> NoopArgs | None:
    """The arguments, if `argv` is exactly a `config -q` (validate only); else None."""
    found = _command(argv, "config", _CONFIG_FLAGS)
    if found is None or not found[1] & {"-q", "--quiet"}:
        return None
    args, flags = found
    args.consistency = "--no-consistency" not in flags
    return args


def _command(argv: Sequence[str], command: str, allowed: set[str]) -> tuple[NoopArgs, set[str]] | None:
    """The global options before *command* and its flags, if all are known; else None."""
    args = NoopArgs()
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
        _set(args, key, value)
        i += 1
    flags = set(argv[i + 1:])
    if i >= len(argv) or len(flags) != len(argv) - i - 1 or not flags <= allowed:
        return None
    return args, flags


def _set(args: NoopArgs, key: str, value: str) -> None:
    if key == "files":
        args.files.append(Path(value))
    elif key == "profiles":
        args.profiles.append(value)
    elif key == "project_name":
        args.project_name = value
    elif key == "project_directory":
        args.project_directory = Path(value)
    else:
        args.env_file = Path(value)


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
