"""`pause`, `unpause` and `kill`: act on the project's running containers, as docker compose.

Progress lines follow compose: pause and unpause report only the outcome ("Paused",
"Unpaused"), kill reports "Killing" then "Killed".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from composer.engine import Engine
from composer.events import Events
from composer.observe import project_containers
from composer.steps import run_step
from runtime import protocol
from runtime.state import ContainerState


def _running(engine: Engine, project: str, services: Sequence[str]) -> list[ContainerState]:
    return [s for s in project_containers(engine, project, services) if s.status == "running"]


def pause(engine: Engine, project: str, services: Sequence[str], events: Events) -> None:
    """Freeze each running container not paused yet."""
    for state in _running(engine, project, services):
        if not state.paused:
            _outcome(events, state.name, "Paused", partial(engine.containers.pause, state.id))


def unpause(engine: Engine, project: str, services: Sequence[str], events: Events) -> None:
    for state in _running(engine, project, services):
        if state.paused:
            _outcome(events, state.name, "Unpaused", partial(engine.containers.unpause, state.id))


def kill(engine: Engine, project: str, services: Sequence[str], events: Events, signal: str = "SIGKILL") -> None:
    """Send `signal` to each running container's PID 1 (SIGKILL by default)."""
    protocol.signal_number(signal)  # a bad name fails before anything is signalled
    running = _running(engine, project, services)
    if not running:
        events.warn("no container to kill")
        return
    for state in running:
        run_step(events, "Container", state.name, ("Killing", "Killed"),
                 partial(engine.containers.kill, state.id, signal))


def _outcome(events: Events, name: str, status: str, work: Callable[[], object]) -> None:
    """Like run_step, but only the final status is shown (compose's pause/unpause events)."""
    quiet = _Quiet(events)
    run_step(quiet, "Container", name, ("", status), work)


class _Quiet(Events):
    """Forwards progress lines but the empty "before" status."""

    def __init__(self, events: Events) -> None:
        super().__init__(events.stream)
        self._events = events

    def progress(self, kind: str, name: str, status: str) -> None:
        if status:
            self._events.progress(kind, name, status)
