"""Commands that run a command in a container and exit with its code: exec, run."""

import os
import sys
from typing import Annotated

import typer

from composer.commands.context import engine, events, load, project_name_of
from composer.commands.options import FileOpt, ProjectOpt
from composer.errors import PycomposeError


def exec_(
    service: Annotated[str, typer.Argument(help="Service to run the command in.")],
    command: Annotated[list[str], typer.Argument(help="Command and arguments.")],
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    no_tty: Annotated[bool, typer.Option("--no-TTY", "-T", help="Disable pseudo-TTY allocation (by default one is allocated when this is a terminal).")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Keep STDIN open (always so; accepted as in docker compose).")] = True,
    allocate_tty: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a pseudo-TTY (the default when this is a terminal).")] = True,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE to set.")] = None,
    workdir: Annotated[str | None, typer.Option("--workdir", "-w", help="Working directory.")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="User (name or uid[:gid]).")] = None,
    privileged: Annotated[bool, typer.Option("--privileged", help="Give the command every capability.")] = False,
) -> None:
    """Run a command in a running service container; exits with its exit code."""
    from composer.observe import project_containers

    name = project_name_of(file, project_name)
    eng = engine()
    running = [s for s in project_containers(eng, name, [service]) if s.status == "running"]
    if not running:
        raise PycomposeError(f'service "{service}" is not running')
    del interactive, allocate_tty  # both are the defaults; accepted so that `exec -it` reads as with Docker
    tty = not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    code = eng.containers.exec(running[0].id, command, env=tuple(env or ()), cwd=workdir, user=user, tty=tty,
                               privileged=privileged)
    raise typer.Exit(code)


def run(
    service: Annotated[str, typer.Argument(help="Service to run a one-off container of.")],
    command: Annotated[list[str] | None, typer.Argument(help="Command and arguments (default: the service's).")] = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    remove: Annotated[bool, typer.Option("--rm", help="Remove the container when it exits.")] = False,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run in the background, print the container name.")] = False,
    env: Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE to set (KEY alone: from this shell).")] = None,
    entrypoint: Annotated[str | None, typer.Option("--entrypoint", help="Override the entrypoint.")] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="User (name or uid[:gid]).")] = None,
    workdir: Annotated[str | None, typer.Option("--workdir", "-w", help="Working directory.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Container name.")] = None,
    no_deps: Annotated[bool, typer.Option("--no-deps", help="Don't start the service's dependencies.")] = False,
    service_ports: Annotated[bool, typer.Option("--service-ports", help="Publish the service's ports.")] = False,
    no_tty: Annotated[bool, typer.Option("--no-TTY", "-T", help="Disable pseudo-TTY allocation (by default one is allocated when this is a terminal).")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Keep STDIN open (the default when attached).")] = True,
    allocate_tty: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a pseudo-TTY (the default when this is a terminal).")] = True,
) -> None:
    """Run a one-off command in a new container of a service; exits with its exit code."""
    from composer.oneoff import RunRequest, run_oneoff

    del interactive, allocate_tty  # stdin is always passed when attached, as `docker compose run` does by default
    tty = not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    # `-e KEY` takes KEY from this shell; unset there, it is left unset (as Docker).
    values = tuple(e if "=" in e else f"{e}={os.environ[e]}" for e in env or () if "=" in e or e in os.environ)
    loaded = load(file, project_name)
    assert loaded is not None
    request = RunRequest(service, tuple(command or ()), entrypoint, values, user, workdir, name, remove, detach,
                         not no_deps, service_ports, tty)
    stdin = None if detach or tty else sys.stdin.fileno()
    raise typer.Exit(run_oneoff(engine(), loaded, events(), request, stdin))
