"""The `pycompose` command line (typer). Flags and output shapes follow `docker compose`.

This module (with composer/entry.py, which answers a no-op `up -d` before typer is
imported: composer/fastpath.py) is the only one that reads os.environ, the working
directory or argv, or exits: everything below gets plain arguments. A `PycomposeError` (or a runtime/network
error) is printed as one line on stderr with exit code 1; `--debug` adds the traceback.

No `from __future__ import annotations` here: typer reads every command's signature at
each start, and string annotations make it eval them all (~25 ms per command).
"""

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from composer.errors import PycomposeError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from composer.engine import Engine
    from composer.events import Events
    from composer.models import Project
    from composer.operations import LoadedProject
    from composer.outline import StackOutline
    from composer.upcache import StackInputs

app = typer.Typer(
    name="pycompose",
    help="Run multi-container stacks from a compose file, with containers built from Linux primitives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
image_app = typer.Typer(help="Manage images.", no_args_is_help=True)
app.add_typer(image_app, name="image")

FileOpt = Annotated[list[Path] | None, typer.Option("--file", "-f", help="Stack file(s); later ones override.")]
# `logs -f` is --follow, as in docker compose: there the stack file is --file (or a global -f).
FileLongOpt = Annotated[list[Path] | None, typer.Option("--file", help="Stack file(s); later ones override.")]
ProjectOpt = Annotated[str | None, typer.Option("--project-name", "-p", help="Project name.")]
ServicesArg = Annotated[list[str] | None, typer.Argument(help="Services (default: all).", show_default=False)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", "-t", help="Seconds to wait before SIGKILL (default: the service's stop_grace_period, else 10).")]


class _Globals:
    files: list[Path] = []
    project_name: str | None = None
    project_directory: Path | None = None
    profiles: list[str] = []
    env_file: Path | None = None
    debug: bool = False


G = _Globals()


@app.callback()
def _main(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    project_directory: Annotated[Path | None, typer.Option("--project-directory", help="Project directory.")] = None,
    profile: Annotated[list[str] | None, typer.Option("--profile", help="Enable a profile (repeatable).")] = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="Variables for interpolation, instead of the project's .env.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    G.files = list(file or [])
    G.project_name = project_name
    G.project_directory = project_directory
    G.profiles = list(profile or [])
    G.env_file = env_file
    G.debug = debug


def engine() -> "Engine":
    from composer.inputs import engine_from

    return engine_from(os.environ)


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


def events() -> "Events":
    from composer.events import Events

    return Events()


@app.command()
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

        code = attach_until_exit(eng, loaded, services or (), colour=_colour(no_color), timeout=timeout, since=began)
        raise typer.Exit(code)


def _wait(eng: "Engine", loaded: "LoadedProject", services: list[str] | tuple[()], wait_timeout: int | None) -> None:
    """`up --wait`: every selected service running, or healthy when it has a healthcheck."""
    from composer.conditions import wait_for_stack
    from composer.operations import selected_services

    chosen = selected_services(loaded.project, services)
    wait_for_stack(eng, loaded.project, chosen, events(), float(wait_timeout) if wait_timeout else None)


@app.command()
def inspect(
    names: Annotated[list[str], typer.Argument(help="Services or containers (names or ids).")],
    file: FileOpt = None,
    project_name: ProjectOpt = None,
) -> None:
    """Show containers in detail, as JSON shaped like `docker inspect`."""
    import json

    from composer.inspect import inspect as inspect_containers

    print(json.dumps(inspect_containers(engine(), _project_name(file, project_name), names), indent=4))


@app.command()
def down(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    remove_orphans: Annotated[bool, typer.Option("--remove-orphans", help="Also remove containers of services not in the stack.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", "-v", help="Remove the named volumes of the stack.")] = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Stop and remove containers, networks (and volumes with -v)."""
    from composer import teardown

    stack = stack_outline(file, project_name, required=(project_name or G.project_name) is None)
    if stack is not None:
        name = stack.project
    else:
        from composer.spec import normalize_project_name

        name = normalize_project_name(project_name or G.project_name or "")
    teardown.down(engine(), name, stack, events(), remove_orphans, volumes, timeout)


@app.command()
def ps(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show stopped containers too.")] = False,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only IDs.")] = False,
) -> None:
    """List the project's containers."""
    import json

    from composer import ps as rows
    from composer.observe import project_containers

    name = _project_name(file, project_name)
    eng = engine()
    states = [s for s in project_containers(eng, name, services or (), include_oneoff=True)
              if all_ or s.status == "running"]
    now = rows.utcnow()
    if quiet:
        if states:
            print("\n".join(s.id for s in states))
    elif format_ == "json":
        for state in states:
            sandbox = eng.networks.get_sandbox(state.id)
            networks = tuple(a.network for a in sandbox.attachments) if sandbox else ()
            ports = rows.publishers(state, eng.networks.published_ports(state.id))
            print(json.dumps(rows.json_row(state, eng.containers.config(state.id).process.args, now, networks, ports)))
    elif format_ == "table":
        table = [rows.table_row(s, eng.containers.config(s.id).process.args, now,
                                rows.publishers(s, eng.networks.published_ports(s.id))) for s in states]
        print(rows.render_table(rows.TABLE_COLUMNS, table))
    else:
        raise PycomposeError(f'unknown --format "{format_}"', hint="use table or json")


@app.command()
def logs(
    services: ServicesArg = None,
    file: FileLongOpt = None,
    project_name: ProjectOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Follow log output.")] = False,
    tail: Annotated[str | None, typer.Option("--tail", "-n", help='Lines from the end of each log ("all").')] = None,
    timestamps: Annotated[bool, typer.Option("--timestamps", "-t", help="Show timestamps.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Monochrome output.")] = False,
    no_log_prefix: Annotated[bool, typer.Option("--no-log-prefix", help="No service prefix.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Only logs since a timestamp (2024-05-01T12:00:00Z) or a relative time (42m).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only logs before a timestamp or a relative time.")] = None,
) -> None:
    """Show container output."""
    from datetime import UTC, datetime

    from composer.attach import print_logs
    from composer.logtime import parse_log_time

    now = datetime.now(UTC)
    begin = None if since is None else parse_log_time("--since", since, now)
    end = None if until is None else parse_log_time("--until", until, now)
    name = _project_name(file, project_name)
    lines = None if tail in (None, "all") else _int_option("--tail", tail)
    print_logs(engine(), name, services or (), follow=follow, tail=lines, timestamps=timestamps,
               colour=_colour(no_color), prefix=not no_log_prefix, since=begin, until=end)


@app.command(name="exec", context_settings={"allow_interspersed_args": False})
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

    name = _project_name(file, project_name)
    eng = engine()
    running = [s for s in project_containers(eng, name, [service]) if s.status == "running"]
    if not running:
        raise PycomposeError(f'service "{service}" is not running')
    del interactive, allocate_tty  # both are the defaults; accepted so that `exec -it` reads as with Docker
    tty = not no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    code = eng.containers.exec(running[0].id, command, env=tuple(env or ()), cwd=workdir, user=user, tty=tty,
                               privileged=privileged)
    raise typer.Exit(code)


@app.command()
def port(
    service: Annotated[str, typer.Argument(help="Service.")],
    private_port: Annotated[int, typer.Argument(help="The container port.", min=1, max=65535)],
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    protocol: Annotated[str, typer.Option("--protocol", help="tcp or udp.")] = "tcp",
    index: Annotated[int, typer.Option("--index", help="Index of the container if the service has several.")] = 0,
) -> None:
    """Print the public address (HOST_IP:PORT) a container port is published on."""
    from composer.publish import published_address

    print(published_address(engine(), _project_name(file, project_name), service, private_port, protocol, index))


@app.command()
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

    stack = None if (project_name or G.project_name) and not (file or G.files) else stack_outline(file, project_name)
    name = stack.project if stack is not None else _project_name(file, project_name)

    def grace(service: str) -> float | None:
        known = stack.service(service) if stack is not None else None
        return known.stop_grace_period if known is not None else None

    remove_stopped(engine(), name, services or (), events(), stop_first=stop_first, grace=grace, confirm=confirm)


@app.command()
def top(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Display the running processes of each service container."""
    from composer.top import top as process_blocks

    output = process_blocks(engine(), _project_name(file, project_name), list(services or ()))
    if output:
        print(output)


@app.command(context_settings={"allow_interspersed_args": False})
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
    no_tty: Annotated[bool, typer.Option("--no-TTY", "-T", help="No pseudo-TTY (run never allocates one yet: stdin is passed as it is).")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Keep STDIN open (the default when attached).")] = True,
) -> None:
    """Run a one-off command in a new container of a service; exits with its exit code."""
    from composer.oneoff import RunRequest, run_oneoff

    del interactive  # stdin is always passed when attached, as `docker compose run` does by default
    if not no_tty and not detach and sys.stdin.isatty():
        events().warn("run does not allocate a pseudo-TTY yet: the command reads this terminal line by line (-T hides this)")
    # `-e KEY` takes KEY from this shell; unset there, it is left unset (as Docker).
    values = tuple(e if "=" in e else f"{e}={os.environ[e]}" for e in env or () if "=" in e or e in os.environ)
    loaded = load(file, project_name)
    assert loaded is not None
    request = RunRequest(service, tuple(command or ()), entrypoint, values, user, workdir, name, remove, detach,
                         not no_deps, service_ports)
    stdin = None if detach else sys.stdin.fileno()
    raise typer.Exit(run_oneoff(engine(), loaded, events(), request, stdin))


@app.command()
def start(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Start existing containers."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    operations.start(engine(), loaded, events(), services or ())


@app.command()
def stop(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None,
         timeout: TimeoutOpt = None) -> None:
    """Stop running containers without removing them."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    operations.stop(engine(), loaded, events(), services or (), timeout)


@app.command()
def restart(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None,
            timeout: TimeoutOpt = None) -> None:
    """Stop, then start containers."""
    from composer import operations

    loaded = load(file, project_name)
    assert loaded is not None
    eng, sink = engine(), events()
    operations.stop(eng, loaded, sink, services or (), timeout)
    operations.start(eng, loaded, sink, services or ())


@app.command()
def pause(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Pause the running containers of services (cgroup freezer)."""
    from composer import control

    control.pause(engine(), _project_name(file, project_name), services or (), events())


@app.command()
def unpause(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Unpause paused containers of services."""
    from composer import control

    control.unpause(engine(), _project_name(file, project_name), services or (), events())


@app.command()
def kill(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    signal: Annotated[str, typer.Option("--signal", "-s", help="Signal to send to the containers.")] = "SIGKILL",
) -> None:
    """Send a signal (default SIGKILL) to the running containers of services."""
    from composer import control

    control.kill(engine(), _project_name(file, project_name), services or (), events(), signal)


@app.command()
def stats(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show all containers (default shows just running).")] = False,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print one result and exit.")] = False,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    no_trunc: Annotated[bool, typer.Option("--no-trunc", help="Do not truncate container IDs.")] = False,
) -> None:
    """Live resource use of the containers: CPU, memory, network and block I/O, pids."""
    from composer import stats as usage

    usage.show(engine(), _project_name(file, project_name), services or (), all_=all_,
               stream=not no_stream, fmt=format_, truncate=not no_trunc)


@app.command()
def config(
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    format_: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    services: Annotated[bool, typer.Option("--services", help="Print the service names.")] = False,
    volumes: Annotated[bool, typer.Option("--volumes", help="Print the volume names.")] = False,
    networks: Annotated[bool, typer.Option("--networks", help="Print the network names.")] = False,
    profiles: Annotated[bool, typer.Option("--profiles", help="Print the profile names.")] = False,
    images: Annotated[bool, typer.Option("--images", help="Print the image names.")] = False,
    hash_: Annotated[str | None, typer.Option("--hash", help='Print "service hash" for these services (comma-separated, or "*").')] = None,
    no_interpolate: Annotated[bool, typer.Option("--no-interpolate", help="Keep ${VAR} as written.")] = False,
    no_consistency: Annotated[bool, typer.Option("--no-consistency", help="Skip the cross-reference checks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only validate.")] = False,
) -> None:
    """Validate the stack and print it resolved and normalised."""
    from composer import configview

    configview.check_format(format_)
    listing = next((k for k, on in (("services", services), ("volumes", volumes), ("networks", networks),
                                    ("profiles", profiles), ("images", images)) if on), None)
    if hash_ is not None and no_interpolate:
        raise PycomposeError("--hash needs the interpolated stack: drop --no-interpolate")
    inputs = stack_inputs(file, project_name)
    assert inputs is not None
    if listing == "profiles":  # every profile of the file, not only the active ones
        inputs = replace(inputs, profiles=("*",))
    if no_interpolate:
        document = _raw_config(inputs)
    else:
        project = load_validated(inputs, inputs.env, consistency=not no_consistency)
        if hash_ is not None:
            chosen = configview.hash_selection(project, hash_)
            print("\n".join(configview.hash_lines(project, chosen, _image_ids(project, chosen))))
            return
        from composer.spec import project_to_dict

        document = project_to_dict(project)
    if quiet:
        return
    if listing is not None:
        names = configview.LISTINGS[listing](document)
        if names:
            print("\n".join(names))
        return
    print(configview.render(document, format_), end="")


def _raw_config(inputs: "StackInputs") -> dict[str, object]:
    from composer.spec import load_tree

    document, warnings = load_tree(
        [Path(f) for f in inputs.files], env=inputs.env, project_name=inputs.project_name,
        workdir=Path(inputs.workdir) if inputs.workdir else None, profiles=inputs.profiles,
        env_file=Path(inputs.env_file) if inputs.env_file else None,
    )
    for warning in warnings:
        print(f"WARN: {warning}", file=sys.stderr)
    return document


def _image_ids(project: "Project", services: list[str]) -> dict[str, str]:
    """The id of each service's image in the store, for the config hash (absent: not there)."""
    store = engine().images
    found = {name: store.find(ref) if (ref := project.services[name].image) else None for name in services}
    for name, image in found.items():
        if image is None:
            print(f'WARN: service "{name}": image not in the image store; its hash is computed without '
                  "the image id and will differ from the one of a running container", file=sys.stderr)
    return {name: image.id for name, image in found.items() if image is not None}


@app.command()
def images(quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only IDs.")] = False) -> None:
    """List images in the store."""
    from composer.images import image_rows

    print(image_rows(engine().images.list(), quiet))


@image_app.command(name="import")
def image_import(
    tarball: Annotated[Path, typer.Argument(help="Root filesystem tarball (.tar, .tar.gz, .tar.xz).")],
    reference: Annotated[str, typer.Argument(help="NAME[:TAG]")],
) -> None:
    """Make a one-layer image from a root filesystem tarball (like `docker import`)."""
    if not tarball.is_file():
        raise PycomposeError(f"{tarball}: no such file")
    image = engine().images.import_tar(tarball, reference)
    print(image.id)


@image_app.command(name="ls")
def image_ls(quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only IDs.")] = False) -> None:
    """List images in the store."""
    images(quiet)


@image_app.command(name="rm")
def image_rm(references: Annotated[list[str], typer.Argument(help="Images to remove.")]) -> None:
    """Remove images (layers no longer used are deleted)."""
    store = engine().images
    for reference in references:
        store.remove(reference)
        print(f"Untagged: {reference}")


def _project_name(files: list[Path] | None, project_name: str | None) -> str:
    """-p alone is enough for commands that only look at what runs (ps, logs, exec)."""
    explicit = project_name or G.project_name
    if explicit and not (files or G.files):
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


def _int_option(flag: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PycomposeError(f'{flag}: "{value}" is not a number') from None


def _colour(no_color: bool) -> bool:
    return not no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def main() -> None:
    """Console entry point: one line per error, a traceback only with --debug."""
    import click

    from network.errors import NetworkError
    from runtime.errors import ContainerError

    try:
        # Outside standalone mode click returns typer.Exit's code instead of raising it.
        code = app(standalone_mode=False)
    except (PycomposeError, ContainerError, NetworkError) as error:
        if G.debug:
            raise
        for line in str(error).splitlines():  # several independent problems: one line each
            print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
    except click.exceptions.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
