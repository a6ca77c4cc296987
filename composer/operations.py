"""The project-level operations behind the CLI verbs: up, down, start, stop, restart.

Each takes the loaded project and the engine, holds the project lock, and reports
progress through `Events`. No argv, no environment, no exit codes here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from composer.apply import Applier
from composer.desired import desired_state, network_name, service_networks, volume_name
from composer.engine import Engine
from composer.errors import PlanError, PycomposeError
from composer.events import Events
from composer.graph import service_dependencies, start_order
from composer.lifecycle import (
    NameTable,
    discard_unfinished,
    ensure_dns,
    ensure_sandbox,
    stop_container,
)
from composer.models import Project
from composer.naming import LABEL_SERVICE
from composer.observe import observe, project_containers
from composer.plan import Plan, PlanOptions, plan_up
from composer.publish import ensure_published
from composer.security import check_security
from composer.steps import run_step
from composer.support import unsupported_settings
from composer.upcache import RecordingEnv


@dataclass(frozen=True)
class LoadedProject:
    project: Project
    files: list[Path]
    env: RecordingEnv  # the environment the loader saw, with what it looked up


def selected_services(project: Project, services: Sequence[str]) -> list[str]:
    """The start order, limited to `services` and everything they depend on."""
    order = start_order(project)
    if not services:
        return order
    unknown = [s for s in services if s not in project.services]
    if unknown:
        raise PycomposeError(f"no such service: {unknown[0]}")
    wanted: set[str] = set()
    stack = list(services)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(service_dependencies(project.services[name]))
    return [name for name in order if name in wanted]


def up(engine: Engine, loaded: LoadedProject, events: Events, options: PlanOptions,
       services: Sequence[str] = (), dry_run: bool = False, timeout: float | None = None) -> Plan:
    project = loaded.project
    order = selected_services(project, services)
    desired = desired_state(project, order, engine.images)  # fails before anything is created
    check_external(engine, project, order)
    check_security(project, order)
    for warning in unsupported_settings(project):
        events.warn(warning)
    with engine.project_lock(project.name):
        discard_unfinished(engine, project.name)
        plan = plan_up(project.name, desired.services, desired.networks, observe(engine, project.name), options)
        if services:  # `up SERVICE` never treats the other services as orphans
            plan = Plan(plan.project, tuple(a for a in plan.actions if "orphan" not in a.verb or a.service not in project.services))
        for action in plan.actions:
            if action.verb == "warn-orphan":
                events.warn(f"Found orphan container {action.target}: {action.reason}")
        if not dry_run:
            Applier(engine, project, desired, loaded.files, events, timeout).run(plan)
    return plan


def check_external(engine: Engine, project: Project, order: Sequence[str]) -> None:
    """External networks and volumes are someone else's: they must exist before `up` makes anything."""
    hint = "create it first (e.g. with the `up` of the project that defines it)"
    for key in sorted({key for name in order for key in project.services[name].networks}):
        name = network_name(project, key)
        if project.networks[key].external and engine.networks.get_network(name) is None:
            raise PlanError(f"network {name} declared as external, but could not be found", hint=hint)
    used = {v.source for name in order for v in project.services[name].volumes if v.type == "volume" and v.source}
    for key in sorted(used):
        name = volume_name(project, key)
        if key in project.volumes and project.volumes[key].external and engine.volumes.get(name) is None:
            raise PlanError(f'volume "{name}" is declared as external, but it does not exist', hint=hint)


def stop(engine: Engine, loaded: LoadedProject, events: Events, services: Sequence[str] = (),
         timeout: float | None = None) -> None:
    project = loaded.project
    order = selected_services(project, ()) if not services else [s for s in start_order(project) if s in services]
    with engine.project_lock(project.name):
        by_service = {c.labels.get(LABEL_SERVICE): c for c in project_containers(engine, project.name, services)}
        for name in reversed(order):
            state = by_service.get(name)
            if state is None or state.status != "running":
                continue
            grace = timeout if timeout is not None else project.services[name].stop_grace_period
            run_step(events, "Container", state.name, ("Stopping", "Stopped"),
                     partial(stop_container, engine, state.id, grace))
            engine.networks.stop_ports(state.id)  # a stopped container holds no host port


def start(engine: Engine, loaded: LoadedProject, events: Events, services: Sequence[str] = ()) -> None:
    project = loaded.project
    order = selected_services(project, services)
    with engine.project_lock(project.name):
        existing = {c.labels.get(LABEL_SERVICE): c for c in project_containers(engine, project.name)}
        missing = [name for name in order if name not in existing]
        if missing:
            raise PycomposeError(f'service "{missing[0]}" has no container', hint="run `pycompose up` first")
        hosts = NameTable(engine, project)
        if project.networks:
            ensure_dns(engine)
        for name in order:
            state = existing[name]
            if state.status == "running":
                continue
            ensure_sandbox(engine, state.id, service_networks(project, name), hosts)
            ensure_published(engine, state.id, name, project.services[name])
            run_step(events, "Container", state.name, ("Starting", "Started"),
                     partial(engine.containers.start, state.id))
