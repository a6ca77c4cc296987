"""`rm`: remove a project's stopped containers (after stopping them, with --stop)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from composer.engine import Engine
from composer.events import Events
from composer.lifecycle import NameTable, remove_container
from composer.naming import LABEL_SERVICE
from composer.observe import project_containers
from composer.steps import run_step


def remove_stopped(engine: Engine, project: str, services: Sequence[str], events: Events, *,
                   stop_first: bool, grace: Callable[[str], float | None], confirm: Callable[[list[str]], bool]) -> list[str]:
    """Remove the containers of `services` (all if none) that are not running; with
    `stop_first`, running ones are stopped first (`grace(service)`: seconds before SIGKILL).
    `confirm` gets the names and may refuse.
    Returns the names removed."""
    with engine.project_lock(project):
        states = project_containers(engine, project, services, include_oneoff=True)
        if stop_first:
            for state in states:
                if state.status == "running":
                    run_step(events, "Container", state.name, ("Stopping", "Stopped"),
                             partial(engine.containers.stop, state.id, grace(state.labels.get(LABEL_SERVICE, ''))))
            states = project_containers(engine, project, services, include_oneoff=True)
        doomed = [s for s in states if s.status != "running"]
        if not doomed:
            print("No stopped containers")
            return []
        if not confirm([s.name for s in doomed]):
            return []
        hosts = NameTable(engine)
        for state in doomed:
            run_step(events, "Container", state.name, ("Removing", "Removed"),
                     partial(remove_container, engine, state.id, 0, hosts))
        return [s.name for s in doomed]
