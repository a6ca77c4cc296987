"""`run`: a one-off container for a service (`<project>-<service>-run-<id>`), as Compose.

The service's dependencies are brought up first (unless --no-deps); the one-off gets the
service's configuration with the command, entrypoint, environment, user and working
directory of the command line, no restart policy and no published ports (unless
--service-ports). It is labelled one-off, so reconcile, `stop`, `logs`... leave it alone;
`ps`, `rm` and `down` see it. Attached, its output is printed as it comes, our stdin is
its stdin, and `run` exits with its exit code. With a TTY (`request.tty`), its PID 1 gets
a pty as stdin, stdout, stderr and controlling terminal, and our terminal is relayed to
it in raw mode, its window size kept in step (runtime/terminal.py, runtime/console.py).
"""

from __future__ import annotations

import secrets
import shlex
import sys
from dataclasses import dataclass

from composer.apply import create_network, ensure_volumes
from composer.desired import desired_state, network_keys, network_name
from composer.engine import Engine
from composer.errors import PycomposeError
from composer.events import Events
from composer.graph import netns_owner
from composer.lifecycle import NameTable, create_container, ensure_dns, labels_for, remove_container
from composer.models import Project, Service
from composer.naming import LABEL_ONEOFF
from composer.netmode import network_mode_of
from composer.observe import project_containers
from composer.operations import LoadedProject, check_external, selected_services, up
from composer.plan import PlanOptions


@dataclass(frozen=True)
class RunRequest:
    service: str
    command: tuple[str, ...] = ()  # empty: the service's command
    entrypoint: str | None = None  # a shell-words string, as `--entrypoint "sh -c"`
    env: tuple[str, ...] = ()  # KEY=VALUE
    user: str | None = None
    workdir: str | None = None
    name: str | None = None
    remove: bool = False
    detach: bool = False
    deps: bool = True
    service_ports: bool = False
    tty: bool = False  # PID 1 gets a pty; attached, our terminal is relayed to it


def oneoff_service(spec: Service, request: RunRequest, name: str) -> Service:
    """The service as the one-off runs it (pure)."""
    update: dict[str, object] = {"container_name": name, "restart": "no", "max_retries": None, "tty": request.tty}
    if request.command:
        update["command"] = request.command
    if request.entrypoint is not None:
        update["entrypoint"] = tuple(shlex.split(request.entrypoint))
    if request.env:
        extra = dict(entry.split("=", 1) for entry in request.env)
        update["environment"] = {**spec.environment, **extra}
    if request.user is not None:
        update["user"] = request.user
    if request.workdir is not None:
        update["working_dir"] = request.workdir
    if not request.service_ports:
        update["ports"] = ()
    return spec.model_copy(update=update)


def run_oneoff(engine: Engine, loaded: LoadedProject, events: Events, request: RunRequest,
               stdin: int | None) -> int:
    """Create and start the one-off; attached, follow it to its end and return its exit code."""
    project = loaded.project
    if request.service not in project.services:
        raise PycomposeError(f"no such service: {request.service}")
    deps = [s for s in selected_services(project, [request.service]) if s != request.service]
    if request.deps and deps:
        up(engine, loaded, events, PlanOptions(), services=deps)
    name = request.name or f"{project.name}-{request.service}-run-{secrets.token_hex(6)}"
    one = oneoff_service(project.services[request.service], request, name)
    run_project = project.model_copy(update={"services": {**project.services, request.service: one}})
    desired_state(run_project, [request.service], engine.images)  # a missing image fails first
    cid = _create(engine, loaded, run_project, request.service, events)
    if request.detach:
        engine.containers.start(cid)
        print(name)
        return 0
    try:
        return _attached(engine, cid, request.tty, stdin, one.stop_grace_period)
    finally:  # also when it could not start, as `docker compose run --rm`
        if request.remove:
            remove_container(engine, cid, 0, NameTable(engine, run_project, oneoff=True))


def _attached(engine: Engine, cid: str, tty: bool, stdin: int | None, grace: float | None) -> int:
    """Start the one-off, relay its terminal or print its output until it exits; its code."""
    try:
        if tty:
            from runtime.terminal import attach_console

            attach_console(lambda console: engine.containers.start(cid, console=console))
        else:
            engine.containers.start(cid, stdin=stdin)
            _follow(engine, cid)
        return engine.containers.wait(cid).exit_code or 0
    except KeyboardInterrupt:
        engine.containers.stop(cid, grace)
        return 130


def _create(engine: Engine, loaded: LoadedProject, project: Project, service: str, events: Events) -> str:
    spec = project.services[service]
    with engine.project_lock(project.name):
        keys = network_keys(project, service) if spec.network_mode is None else []
        check_external(engine, project, [service])
        for key in keys:
            if engine.networks.get_network(network_name(project, key)) is None:
                create_network(engine, project, key, events)
        if keys:
            ensure_dns(engine)
        volumes = ensure_volumes(engine, project, {v.source for v in spec.volumes if v.type == "volume" and v.source},
                                 events)
        image = engine.images.find(spec.image or "")
        assert image is not None  # checked by desired_state
        owner = netns_owner(spec)
        owner_id = None
        if owner is not None:
            running = [s.id for s in project_containers(engine, project.name, [owner]) if s.status == "running"]
            owner_id = running[0] if running else None
        mode = network_mode_of(engine, project, service, owner_id)
        labels = {**labels_for(project, service, "", image, loaded.files), LABEL_ONEOFF: "True"}
        return create_container(engine, project, service, image, mode, labels, volumes, NameTable(engine, project, oneoff=True))


def _follow(engine: Engine, cid: str) -> None:
    """Its output as it comes, each stream to ours (no prefixes: it is one container)."""
    for record in engine.containers.logs(cid, follow=True):
        stream = sys.stdout if record.stream == "stdout" else sys.stderr
        stream.write(record.line)
        stream.flush()
