"""Whether a container meets a `depends_on` condition (or `up --wait`'s), as Docker Compose judges.

`judge` is pure: from a container's state it says the condition holds, does not hold yet,
or can never hold (with Compose's reason: "container X is unhealthy", "container X exited
(1)"). `wait_until` polls it (Compose polls every 500 ms; the state is a small file here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from composer.engine import Engine
from composer.errors import ApplyError
from composer.events import Events
from composer.models import Project
from composer.naming import LABEL_SERVICE
from composer.observe import project_containers
from runtime.config import ContainerConfig
from runtime.containers import ContainerState

# `up --wait`: running, and healthy if the container has a healthcheck (Compose's
# ServiceConditionRunningOrHealthy).
RUNNING_OR_HEALTHY = "running_or_healthy"
Condition = Literal["service_started", "service_healthy", "service_completed_successfully", "running_or_healthy"]
POLL = 0.1  # seconds between looks at the state


class Never(Exception):
    """The condition can never hold; the message says why (Compose's wording)."""


def judge(state: ContainerState, condition: str, has_healthcheck: bool) -> bool:
    """True once `condition` holds, False while it may still; `Never` when it cannot."""
    name = state.name
    if condition == "service_started":
        return state.status != "created" or _failed_to_start(state)
    if condition == "service_completed_successfully":
        if state.status != "exited":
            return _failed_to_start(state)
        if state.exit_code != 0:
            raise Never(f"{name} exited with code {state.exit_code}")
        return True
    if state.status == "exited":
        raise Never(f"container {name} exited ({state.exit_code})")
    if state.status != "running":
        return _failed_to_start(state)
    if not has_healthcheck:
        if condition == RUNNING_OR_HEALTHY:
            return True
        raise Never(f"container {name} has no healthcheck configured")
    if state.health is None or state.health.status == "starting":
        return False
    if state.health.status == "unhealthy":
        raise Never(f"container {name} is unhealthy{last_check(state)}")
    return True


def _failed_to_start(state: ContainerState) -> bool:
    if state.error:
        raise Never(f"container {state.name} failed to start: {state.error}")
    return False


def last_check(state: ContainerState) -> str:
    """"; last healthcheck exited 1: <output>" from the newest probe result, if any."""
    if state.health is None or not state.health.log:
        return ""
    last = state.health.log[-1]
    output = " ".join(last.output.split())
    return f" (last healthcheck exited {last.exit_code}{': ' + output if output else ''})"


def has_healthcheck(config: ContainerConfig) -> bool:
    """A probe runs for this container (not for test NONE / `disable: true`)."""
    check = config.healthcheck
    return check is not None and check.test[0] in ("CMD", "CMD-SHELL")


def wait_until(read: Callable[[], ContainerState], condition: str, has_healthcheck: bool,
               deadline: float | None = None) -> ContainerState | None:
    """Poll `read()` until `condition` holds (its state) or `deadline` (monotonic) passes (None)."""
    while True:
        state = read()
        if judge(state, condition, has_healthcheck):
            return state
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(POLL)


def stack_conditions(depends_on: Mapping[str, Mapping[str, str]], services: list[str]) -> dict[str, str]:
    """`up --wait`: running (or healthy) for every service, except that one other services
    wait on with service_completed_successfully must have exited 0 (Compose's rule)."""
    one_shots = {dep for deps in depends_on.values() for dep, cond in deps.items()
                 if cond == "service_completed_successfully"}
    return {s: "service_completed_successfully" if s in one_shots else RUNNING_OR_HEALTHY for s in services}


def wait_for_stack(engine: Engine, project: Project, services: Sequence[str], events: Events,
                   timeout: float | None) -> None:
    """`up --wait`: block until every container of `services` meets its condition.

    Raises ApplyError with Compose's reason when one never will ("container X is
    unhealthy"), or "application not healthy after 10s" once `timeout` seconds passed.
    """
    declared = {name: {dep: spec.condition for dep, spec in svc.depends_on.items()}
                for name, svc in project.services.items()}
    conditions = stack_conditions(declared, list(services))
    pending = {s.id: conditions[s.labels[LABEL_SERVICE]]
               for s in project_containers(engine, project.name, services) if s.labels.get(LABEL_SERVICE) in conditions}
    checked = {cid: has_healthcheck(engine.containers.config(cid)) for cid in pending}
    for cid in pending:
        events.progress("Container", engine.containers.state(cid).name, "Waiting")
    deadline = None if timeout is None else time.monotonic() + timeout
    while pending:
        for cid, condition in list(pending.items()):
            state = engine.containers.state(cid)
            try:
                holds = judge(state, condition, checked[cid])
            except Never as never:
                events.progress("Container", state.name, "Error")
                raise ApplyError(str(never)) from None
            if holds:
                events.progress("Container", state.name, "Exited" if condition == "service_completed_successfully" else "Healthy")
                del pending[cid]
        if pending and deadline is not None and time.monotonic() >= deadline:
            from runtime.health import go_duration

            raise ApplyError(f"application not healthy after {go_duration(timeout or 0)}")
        if pending:
            time.sleep(POLL)
