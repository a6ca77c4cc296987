"""Commands that act on existing containers: pause, unpause, kill, rm."""

import sys
from typing import Annotated

import typer

from composer.commands.context import (
    engine,
    events,
    explicit_project,
    has_files,
    project_name_of,
    stack_outline,
)
from composer.commands.options import FileOpt, ProjectOpt, ServicesArg


def pause(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Pause the running containers of services (cgroup freezer)."""
    from composer import control

    control.pause(engine(), project_name_of(file, project_name), services or (), events())


def unpause(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Unpause paused containers of services."""
    from composer import control

    control.unpause(engine(), project_name_of(file, project_name), services or (), events())


def kill(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    signal: Annotated[str, typer.Option("--signal", "-s", help="Signal to send to the containers.")] = "SIGKILL",
) -> None:
    """Send a signal (default SIGKILL) to the running containers of services."""
    from composer import control

    control.kill(engine(), project_name_of(file, project_name), services or (), events(), signal)


def rm(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Don't ask to confirm removal.")] = False,
    stop_first: Annotated[bool, typer.Option("--stop", "-s", help="Stop the containers first if needed.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", "-v", help="Remove anonymous volumes (pycompose makes none: named volumes stay, as with Docker Compose).")] = False,
) -> None:
    """Remove stopped service containers."""
    from composer.remove import remove_stopped

    def confirm(names: list[str]) -> bool:
        print("Going to remove " + ", ".join(names), flush=True)
        if force:
            return True
        answer = input("? Are you sure? (y/N) ") if sys.stdin.isatty() else sys.stdin.readline()
        return answer.strip().lower() in ("y", "yes")

    stack = None if explicit_project(project_name) and not has_files(file) else stack_outline(file, project_name)
    name = stack.project if stack is not None else project_name_of(file, project_name)

    def grace(service: str) -> float | None:
        known = stack.service(service) if stack is not None else None
        return known.stop_grace_period if known is not None else None

    remove_stopped(engine(), name, services or (), events(), stop_first=stop_first, grace=grace, confirm=confirm)
