"""up, down, start, stop, restart."""

from typing import TYPE_CHECKING, Annotated

import typer

from composer.commands.context import (
    colour,
    engine,
    events,
    explicit_project,
    load,
    remember,
    stack_inputs,
    stack_outline,
)
from composer.commands.options import FileOpt, ProjectOpt, ServicesArg, TimeoutOpt
from composer.errors import PycomposeError

if TYPE_CHECKING:
    from composer.engine import Engine
    from composer.operations import LoadedProject


def up(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run containers in the background.")] = False,
    remove_orphans: Annotated[bool, typer.Option("--remove-orphans", help="Remove containers of services not in the stack.")] = False,
    force_recreate: Annotated[bool, typer.Option("--force-recreate", help="Recreate containers even if unchanged.")] = False,
    no_recreate: Annotated[bool, typer.Option("--no-recreate", help="Never recreate existing containers.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and stop.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Monochrome output.")] = False,
    timeout: TimeoutOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for services to be running|healthy. Implies detached mode.")] = False,
    wait_timeout: Annotated[int | None, typer.Option("--wait-timeout", help="Maximum duration in seconds to wait for the project to be running|healthy.")] = None,
) -> None:
    """Create and start containers; reconcile what is already there."""
    from composer.plan import PlanOptions

    detach = detach or wait
    if force_recreate and no_recreate:
        raise PycomposeError("--force-recreate and --no-recreate are incompatible")
    options = PlanOptions(remove_orphans=remove_orphans, force_recreate=force_recreate, no_recreate=no_recreate)
    eng = engine()
    inputs = stack_inputs(file, project_name)
    assert inputs is not None
    if detach and not (force_recreate or services or dry_run or wait):
        from composer import upcache

        cached = upcache.load(eng.run_root, inputs)
        if cached is not None:
            from composer.noop import up_if_unchanged

            if up_if_unchanged(eng, cached, events(), options):
                return
    from composer import operations

    loaded = load(inputs=inputs)
    assert loaded is not None
    began = None
    if not detach and not dry_run:
        from composer.attach import log_timestamp

        began = log_timestamp()
    plan = operations.up(eng, loaded, events(), options, services or (), dry_run, timeout)
    if dry_run:
        print(plan.render())
        return
    remember(eng.run_root, inputs, loaded)
    if wait:
        _wait(eng, loaded, services or (), wait_timeout)
    if not detach:
        from composer.attach import attach_until_exit

        code = attach_until_exit(eng, loaded, services or (), colour=colour(no_color), timeout=timeout, since=began)
        raise typer.Exit(code)


def _wait(eng: "Engine", loaded: "LoadedProject", services: list[str] | tuple[()], wait_timeout: int | None) -> None:
    """`up --wait`: every selected service running, or healthy when it has a healthcheck."""
    from composer.conditions import wait_for_stack
    from composer.operations import selected_services

    chosen = selected_services(loaded.project, services)
    wait_for_stack(eng, loaded.project, chosen, events(), float(wait_timeout) if wait_timeout else None)


def down(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    remove_orphans: Annotated[bool, typer.Option("--remove-orphans", help="Also remove containers of services not in the stack.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", "-v", help="Remove the named volumes of the stack.")] = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Stop and remove containers, networks (and volumes with -v)."""
    from composer import teardown

    explicit = explicit_project(project_name)
    stack = stack_outline(file, project_name, required=explicit is None)
    if stack is not None:
        name = stack.project
    else:
        from composer.spec import normalize_project_name

        name = normalize_project_name(explicit or "")
    teardown.down(engine(), name, stack, events(), remove_orphans, volumes, timeout)


def start(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Start existing containers."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    operations.start(engine(), loaded, events(), services or ())


def stop(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None,
         timeout: TimeoutOpt = None) -> None:
    """Stop running containers without removing them."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    operations.stop(engine(), loaded, events(), services or (), timeout)


def restart(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None,
            timeout: TimeoutOpt = None) -> None:
    """Stop, then start containers."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    eng, sink = engine(), events()
    operations.stop(eng, loaded, sink, services or (), timeout)
    operations.start(eng, loaded, sink, services or ())
