"""Commands that look at what runs: inspect, ps, logs, top, port, stats."""

from typing import Annotated

import typer

from composer.commands.context import colour, engine, int_option, project_name_of
from composer.commands.options import FileLongOpt, FileOpt, ProjectOpt, QuietIdsOpt, ServicesArg
from composer.errors import PycomposeError


def inspect(
    names: Annotated[list[str], typer.Argument(help="Services or containers (names or ids).")],
    file: FileOpt = None,
    project_name: ProjectOpt = None,
) -> None:
    """Show containers in detail, as JSON shaped like `docker inspect`."""
    import json

    from composer.inspect import inspect as inspect_containers

    print(json.dumps(inspect_containers(engine(), project_name_of(file, project_name), names), indent=4))


def ps(
    services: ServicesArg = None,
    file: FileOpt = None,
    project_name: ProjectOpt = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show stopped containers too.")] = False,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    quiet: QuietIdsOpt = False,
) -> None:
    """List the project's containers."""
    import json

    from composer import ps as rows
    from composer.observe import project_containers

    name = project_name_of(file, project_name)
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
    name = project_name_of(file, project_name)
    lines = None if tail in (None, "all") else int_option("--tail", tail)
    print_logs(engine(), name, services or (), follow=follow, tail=lines, timestamps=timestamps,
               colour=colour(no_color), prefix=not no_log_prefix, since=begin, until=end)


def top(services: ServicesArg = None, file: FileOpt = None, project_name: ProjectOpt = None) -> None:
    """Display the running processes of each service container."""
    from composer.top import top as process_blocks

    output = process_blocks(engine(), project_name_of(file, project_name), list(services or ()))
    if output:
        print(output)


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

    print(published_address(engine(), project_name_of(file, project_name), service, private_port, protocol, index))


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

    usage.show(engine(), project_name_of(file, project_name), services or (), all_=all_,
               stream=not no_stream, fmt=format_, truncate=not no_trunc)
