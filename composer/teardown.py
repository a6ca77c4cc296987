"""`down`: stop and remove a project's containers (dependents first), networks, volumes.

Works from a `StackOutline` (cached, so no stack loading), or from nothing but the
project name when there is no stack file (as `docker compose -p NAME down`).
"""

from __future__ import annotations

from functools import partial

from composer.engine import Engine
from composer.events import Events
from composer.lifecycle import NameTable, discard_unfinished, remove_container
from composer.naming import LABEL_ONEOFF
from composer.observe import observe, project_containers
from composer.outline import StackOutline
from composer.plan import Plan, plan_down
from composer.steps import run_step


def down(engine: Engine, project_name: str, stack: StackOutline | None, events: Events,
         remove_orphans: bool = False, volumes: bool = False, timeout: float | None = None) -> Plan:
    with engine.project_lock(project_name):
        discard_unfinished(engine, project_name)
        observed = observe(engine, project_name)
        # Every network this project created goes, also one since dropped from the file.
        networks = sorted(observed.networks)
        volume_names = list(stack.volumes) if volumes and stack else []
        order = stack.order if stack else None
        plan = plan_down(project_name, observed, order, networks, volume_names, remove_orphans)
        hosts = NameTable(engine)
        for state in project_containers(engine, project_name, include_oneoff=True):
            if state.labels.get(LABEL_ONEOFF) == "True":  # `run` containers go too, as with Compose
                run_step(events, "Container", state.name, ("Stopping", "Removed"),
                         partial(remove_container, engine, state.id, timeout, hosts))
        for action in plan.actions:
            if action.verb in ("remove", "remove-orphan") and action.container_id:
                service = stack.service(action.service) if stack and action.service else None
                grace = timeout if timeout is not None else (service.stop_grace_period if service else None)
                run_step(events, "Container", action.target, ("Stopping", "Removed"),
                         partial(remove_container, engine, action.container_id, grace, hosts))
            elif action.verb == "warn-orphan":
                events.warn(f"Found orphan container {action.target}: {action.reason}")
            elif action.verb == "remove-network":
                run_step(events, "Network", action.target, ("Removing", "Removed"),
                         partial(engine.networks.remove_network, action.target))
            elif action.verb == "remove-volume" and engine.volumes.get(action.target) is not None:
                run_step(events, "Volume", action.target, ("Removing", "Removed"),
                         partial(engine.volumes.remove, action.target))
    return plan
