"""Reconcile: a pure function from (desired, observed) to an ordered Plan.

Nothing here touches the host. Every action carries the reason it was chosen, and
`Plan.render()` is both what `--dry-run` prints and what the unit tests compare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from composer.naming import container_name


@dataclass(frozen=True)
class DesiredService:
    name: str
    config_hash: str
    depends_on: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()  # full network names, e.g. "demo_default"
    container_name: str | None = None  # `container_name:` from the stack, else <project>-<service>-1
    netns_owner: str | None = None  # `network_mode: service:NAME`: the service whose netns it joins


@dataclass(frozen=True)
class DesiredNetwork:
    name: str  # full name
    key: str  # the name in the stack file
    external: bool = False  # made by someone else: joined, never created or removed
    config_hash: str = ""  # of its settings in the file; "" when unknown (the no-op fast path)


@dataclass(frozen=True)
class ObservedContainer:
    id: str
    name: str
    service: str
    number: int
    config_hash: str
    status: str  # "created" | "running" | "exited"


@dataclass(frozen=True)
class Observed:
    containers: tuple[ObservedContainer, ...] = ()
    networks: frozenset[str] = frozenset()  # full names of the project's existing networks
    network_hashes: Mapping[str, str] = field(default_factory=dict)  # full name -> config hash


@dataclass(frozen=True)
class PlanOptions:
    remove_orphans: bool = False
    force_recreate: bool = False
    no_recreate: bool = False


@dataclass(frozen=True)
class Action:
    """One step. `verb` is what is done, `target` the network or container name."""

    # create-network | recreate-network | create | recreate | start | keep | remove-orphan | warn-orphan
    verb: str
    target: str
    reason: str
    service: str | None = None
    container_id: str | None = None  # the existing container acted on, if any

    def render(self) -> str:
        return f"{self.verb} {self.target}: {self.reason}"


@dataclass(frozen=True)
class Plan:
    project: str
    actions: tuple[Action, ...] = field(default_factory=tuple)

    def render(self) -> str:
        return "\n".join(action.render() for action in self.actions)

    def for_service(self, service: str) -> Action | None:
        return next((a for a in self.actions if a.service == service and a.verb != "warn-orphan"), None)

    @property
    def changes_anything(self) -> bool:
        return any(a.verb not in ("keep", "warn-orphan") for a in self.actions)


def plan_up(
    project: str,
    services: Sequence[DesiredService],
    networks: Sequence[DesiredNetwork],
    observed: Observed,
    options: PlanOptions = PlanOptions(),
) -> Plan:
    """The actions that bring the host to `services`, in order.

    `services` must already be in start order (dependencies first). A network whose
    settings changed is recreated, and with it every container on it (as Compose does
    since v2.30): they are removed before it, and made again after.
    """
    actions = _network_actions(networks, observed)
    changed = {a.target for a in actions if a.verb == "recreate-network"}
    by_service = _containers_by_service(observed)
    wanted = {s.name for s in services}
    verbs: dict[str, str] = {}
    for service in services:
        existing = by_service.get(service.name, [])
        action = _container_action(project, service, existing, options)
        forced = _forced_recreate(service, changed, verbs)
        if forced and existing and action.verb != "recreate":
            action = Action("recreate", existing[0].name, forced, service.name, existing[0].id)
        verbs[service.name] = action.verb
        actions.append(action)
    actions.extend(_orphan_actions(by_service, wanted, options.remove_orphans))
    return Plan(project, tuple(actions))


def _network_actions(networks: Sequence[DesiredNetwork], observed: Observed) -> list[Action]:
    actions = []
    for network in networks:
        if network.external:
            continue
        if network.name not in observed.networks:
            actions.append(Action("create-network", network.name, "not found"))
            continue
        current = observed.network_hashes.get(network.name) or network.config_hash
        if network.config_hash and current != network.config_hash:
            actions.append(Action("recreate-network", network.name, "configuration changed"))
    return actions


def _forced_recreate(service: DesiredService, changed: set[str], verbs: Mapping[str, str]) -> str | None:
    """Why an up-to-date container must be made again anyway, if it must."""
    on_changed = [n for n in service.networks if n in changed]
    if on_changed:
        return f'network "{on_changed[0]}" is recreated'
    owner = service.netns_owner
    if owner and verbs.get(owner) in ("create", "recreate"):
        return f'joins the network namespace of service "{owner}", which is {verbs[owner]}d'
    return None


def _containers_by_service(observed: Observed) -> dict[str, list[ObservedContainer]]:
    grouped: dict[str, list[ObservedContainer]] = {}
    for container in sorted(observed.containers, key=lambda c: (c.service, c.number)):
        grouped.setdefault(container.service, []).append(container)
    return grouped


def _orphan_actions(
    by_service: dict[str, list[ObservedContainer]], wanted: set[str], remove: bool
) -> list[Action]:
    actions = []
    for name in sorted(set(by_service) - wanted):
        for orphan in by_service[name]:
            reason = f'service "{name}" is not in the stack'
            if remove:
                actions.append(Action("remove-orphan", orphan.name, reason, name, orphan.id))
            else:
                hint = " (run with --remove-orphans to remove it)"
                actions.append(Action("warn-orphan", orphan.name, reason + hint, name, orphan.id))
    return actions


def _container_action(
    project: str, service: DesiredService, existing: list[ObservedContainer], options: PlanOptions
) -> Action:
    if not existing:
        name = service.container_name or container_name(project, service.name)
        return Action("create", name, "not found", service.name)
    current = existing[0]
    if options.force_recreate:
        return Action("recreate", current.name, "--force-recreate", service.name, current.id)
    if current.config_hash != service.config_hash and not options.no_recreate:
        return Action("recreate", current.name, "configuration changed", service.name, current.id)
    if current.status == "running":
        return Action("keep", current.name, "running and up to date", service.name, current.id)
    return Action("start", current.name, f"{current.status}", service.name, current.id)


def plan_down(
    project: str,
    observed: Observed,
    start_order: Sequence[str] | None,
    networks: Sequence[str],
    volumes: Sequence[str] = (),
    remove_orphans: bool = False,
) -> Plan:
    """Stop and remove the project's containers (dependents first), then its networks.

    `start_order` is the stack's service order, or None when no stack file was found
    (then every container of the project goes, as `docker compose -p NAME down`).
    `networks` and `volumes` are the full names to remove once the containers are gone.
    """
    actions: list[Action] = []
    by_service = _containers_by_service(observed)
    known = list(start_order) if start_order is not None else sorted(by_service)
    for name in reversed(known):
        for container in by_service.get(name, []):
            actions.append(Action("remove", container.name, container.status, name, container.id))
    actions.extend(_orphan_actions(by_service, set(known), remove_orphans))
    orphans_stay = any(a.verb == "warn-orphan" for a in actions)
    for network in networks:
        if network in observed.networks and not orphans_stay:
            actions.append(Action("remove-network", network, "project network"))
    for volume in volumes:
        actions.append(Action("remove-volume", volume, "-v given"))
    return Plan(project, tuple(actions))
