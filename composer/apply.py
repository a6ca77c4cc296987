"""Carry out a Plan on the host, along the dependency graph. No decisions are made here.

Independent services run in parallel threads; a service starts only once every
service it depends on has been started (`service_started`) or, for
`service_completed_successfully`, has exited with code 0. Threads only,
never a fork: the forking happens in the fresh, single-threaded container monitors.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from composer.conditions import Never, has_healthcheck, judge, wait_until
from composer.desired import Desired, network_spec, service_networks, volume_name
from composer.engine import Engine
from composer.errors import ApplyError, PycomposeError
from composer.events import Events
from composer.graph import netns_owner
from composer.lifecycle import (
    NameTable,
    create_container,
    dns_started,
    ensure_dns,
    ensure_sandbox,
    labels_for,
    remove_container,
)
from composer.models import Project
from composer.naming import LABEL_PROJECT, LABEL_VOLUME
from composer.netmode import container_names, network_mode_of
from composer.plan import Action, Plan
from composer.publish import ensure_published
from composer.steps import HOST_ERRORS, run_step
from network import NetworkInUseError, NetworkSpec
from runtime.containers import PendingStart

MAX_PARALLEL = 8


@dataclass
class Applier:
    engine: Engine
    project: Project
    desired: Desired
    config_files: list[Path]
    events: Events
    timeout: float | None = None  # `up -t`: overrides stop_grace_period when a container must go
    _removed: set[str] = field(default_factory=set)  # containers already removed by this run

    def run(self, plan: Plan) -> None:
        hosts = NameTable(self.engine, self.project)
        if not plan.changes_anything:
            if self.desired.networks:
                ensure_dns(self.engine)  # a killed server is restarted even when nothing else changes
            for action in plan.actions:
                if action.verb == "keep":
                    self._ensure_published(action)
                    self.events.progress("Container", action.target, "Running")
            return
        # The DNS server listens on every network's gateway before a container starts.
        with dns_started(self.engine, bool(self.desired.networks)):
            self._recreate_networks(plan, hosts)
            for action in plan.actions:
                if action.verb == "create-network":
                    self._create_network(action.target)
                elif action.verb == "remove-orphan" and action.container_id:
                    self._step("Container", action.target, ("Stopping", "Removed"),
                               partial(remove_container, self.engine, action.container_id, self.timeout, hosts))
        volume_paths = self._ensure_volumes(plan)
        self._run_services(plan, hosts, volume_paths)

    def _create_network(self, name: str) -> None:
        key = next(n.key for n in self.desired.networks if n.name == name)
        create_network(self.engine, self.project, key, self.events)

    def _recreate_networks(self, plan: Plan, hosts: NameTable) -> None:
        """A changed network goes with its containers (planned for recreation), then comes back."""
        changed = [a.target for a in plan.actions if a.verb == "recreate-network"]
        if not changed:
            return
        for action in plan.actions:
            service = action.service
            if action.verb == "recreate" and action.container_id and service is not None and \
                    set(changed) & set(self._network_names(service)):
                old = action.container_id
                self._step("Container", action.target, ("Stopping", "Removed"),
                           partial(remove_container, self.engine, old, self._grace(service), hosts))
                self._removed.add(old)
        for name in changed:
            key = next(n.key for n in self.desired.networks if n.name == name)
            spec = network_spec(self.project, key)

            def recreate(name: str = name, spec: NetworkSpec = spec) -> None:
                try:
                    self.engine.networks.remove_network(name)
                except NetworkInUseError as error:  # containers of other projects joined it
                    users = ", ".join(container_names(self.engine, error.users))
                    raise ApplyError(f'network "{name}" has changed and must be recreated, but it is still '
                                     f"in use by {users}", hint="remove those containers first") from error
                self.engine.networks.ensure_network(spec)

            self._step("Network", name, ("Recreate", "Recreated"), recreate)

    def _ensure_volumes(self, plan: Plan) -> dict[str, str]:
        needed = {
            v.source
            for a in plan.actions if a.verb in ("create", "recreate") and a.service
            for v in self.project.services[a.service].volumes if v.type == "volume" and v.source
        }
        return ensure_volumes(self.engine, self.project, needed, self.events)

    def _run_services(self, plan: Plan, hosts: NameTable, volume_paths: dict[str, str]) -> None:
        futures: dict[str, Future[str]] = {}
        errors: list[PycomposeError] = []
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
            # New containers are all created at once (as Compose does); only their starts
            # follow the dependency order. Tasks are queued in start order, so a task only
            # ever waits for tasks queued before it: the pool cannot deadlock.
            created = {
                a.service: pool.submit(self._create_and_prepare, a, hosts, volume_paths)
                for a in plan.actions if a.verb == "create" and a.service and not self._joins(a.service)
            }
            for desired in self.desired.services:
                action = plan.for_service(desired.name)
                deps = {d: futures[d] for d in desired.depends_on if d in futures}
                if action is not None:
                    futures[desired.name] = pool.submit(
                        self._service_task, action, deps, hosts, volume_paths, created.get(desired.name))
            outcomes: list[tuple[str, Future[Any]]] = [*futures.items(), *created.items()]
            for name, future in outcomes:
                try:
                    future.result()
                except PycomposeError as error:
                    if not isinstance(error, _DependencyFailed):
                        errors.append(error)
                except HOST_ERRORS as error:
                    errors.append(ApplyError(f'service "{name}": {error}'))
        if errors:
            raise errors[0]

    def _service_task(self, action: Action, deps: dict[str, Future[str]], hosts: NameTable,
                      volume_paths: dict[str, str], created: Future[tuple[str, PendingStart]] | None) -> str:
        """Bring one service to its planned state; returns the id of its container."""
        service = action.service
        assert service is not None
        ids: dict[str, str] = {}
        try:
            for dependency, future in deps.items():
                try:
                    ids[dependency] = future.result()
                except BaseException as error:
                    raise _DependencyFailed(f"dependency of {service} failed") from error
                self._await_condition(service, dependency, ids[dependency])
        except BaseException:
            _cancel(created)
            raise
        owner = netns_owner(self.project.services[service])
        owner_id = ids.get(owner) if owner else None
        if action.verb == "keep" and action.container_id:
            self._ensure_published(action)
            self.events.progress("Container", action.target, "Running")
            return action.container_id
        if action.verb == "start" and action.container_id:
            cid = action.container_id
            ensure_sandbox(self.engine, cid, service_networks(self.project, service), hosts)
            self._ensure_published(action)
        elif action.verb == "recreate" and action.container_id:
            old = action.container_id
            if old not in self._removed:  # not already gone with a recreated network
                self._step("Container", action.target, ("Recreate", "Recreated"),
                           lambda: remove_container(self.engine, old, self._grace(service), hosts))
            cid = self._create(action, hosts, volume_paths, owner_id)
        elif created is None:  # joins the namespace of a dependency: made once that one is
            cid = self._create(action, hosts, volume_paths, owner_id)
        else:
            assert created is not None
            try:
                cid, pending = created.result()
            except BaseException as error:
                raise _DependencyFailed(f"creating {service} failed") from error
            self._step("Container", action.target, ("Starting", "Started"), pending.finish)
            return cid
        self._step("Container", action.target, ("Starting", "Started"), lambda: self.engine.containers.start(cid))
        return cid

    def _create_and_prepare(self, action: Action, hosts: NameTable,
                            volume_paths: dict[str, str]) -> tuple[str, PendingStart]:
        """Create the container and boot its monitor, ahead of the ordered start."""
        cid = self._create(action, hosts, volume_paths)
        try:
            return cid, self.engine.containers.prepare_start(cid)
        except HOST_ERRORS as error:
            raise ApplyError(f"container {action.target}: {error}") from error

    def _create(self, action: Action, hosts: NameTable, volume_paths: dict[str, str],
                owner_id: str | None = None) -> str:
        service = action.service
        assert service is not None
        image = self.desired.images[service]
        config_hash = next(s.config_hash for s in self.desired.services if s.name == service)
        labels = labels_for(self.project, service, config_hash, image, self.config_files)
        holder: list[str] = []

        def create() -> None:
            mode = network_mode_of(self.engine, self.project, service, owner_id)
            holder.append(create_container(
                self.engine, self.project, service, image, mode, labels, volume_paths, hosts))

        self._step("Container", action.target, ("Creating", "Created"), create)
        return holder[0]

    def _await_condition(self, service: str, dependency: str, dependency_id: str) -> None:
        """Wait until the dependency meets the condition `service` declares on it (Compose's
        waitDependencies); an optional dependency that never will is skipped with a warning."""
        spec = self.project.services[service].depends_on.get(dependency)  # None: network_mode's
        if spec is None or spec.condition == "service_started":
            return
        containers = self.engine.containers
        state = containers.state(dependency_id)
        self.events.progress("Container", state.name, "Waiting")
        try:
            if spec.condition == "service_completed_successfully":
                state = containers.wait(dependency_id) if state.status == "running" else state
                if not judge(state, spec.condition, False):
                    raise Never(f"{state.name} has not run")
                self.events.progress("Container", state.name, "Exited")
            else:
                checked = has_healthcheck(containers.config(dependency_id))
                wait_until(lambda: containers.state(dependency_id), spec.condition, checked)
                self.events.progress("Container", state.name, "Healthy")
        except Never as never:
            if not spec.required:
                self.events.warn(f'optional dependency "{dependency}" of service "{service}" failed: {never}')
                return
            self.events.progress("Container", state.name, "Error")
            raise ApplyError(_dependency_failed(service, dependency, spec.condition, str(never))) from None

    def _ensure_published(self, action: Action) -> None:
        """A kept or started container's ports are served (its proxy restarted if it died)."""
        if action.service and action.container_id:
            ensure_published(self.engine, action.container_id, action.service, self.project.services[action.service])

    def _network_names(self, service: str) -> list[str]:
        return [wiring.network for wiring in service_networks(self.project, service)]

    def _joins(self, service: str) -> bool:
        """Its container shares the network namespace of another service's."""
        return netns_owner(self.project.services[service]) is not None

    def _grace(self, service: str) -> float | None:
        return self.timeout if self.timeout is not None else self.project.services[service].stop_grace_period

    def _step(self, kind: str, name: str, statuses: tuple[str, str], work: Callable[[], object]) -> None:
        run_step(self.events, kind, name, statuses, work)


def _dependency_failed(service: str, dependency: str, condition: str, reason: str) -> str:
    if condition == "service_completed_successfully":  # the wording tests and users already know
        return f'service "{service}" depends on "{dependency}" with condition {condition}, but {reason}'
    return f'dependency failed to start: {reason}; service "{service}" depends on "{dependency}" with condition {condition}'


def _cancel(created: Future[tuple[str, PendingStart]] | None) -> None:
    """A container that will not start after all: let its booted monitor go."""
    if created is None:
        return
    try:
        _, pending = created.result()
    except BaseException:
        return
    pending.cancel()


class _DependencyFailed(ApplyError):
    """A dependency failed; its own error is reported, not this one."""


def create_network(engine: Engine, project: Project, key: str, events: Events) -> None:
    """The project network `key` (by its key in the file), made as the stack declares it."""
    spec = network_spec(project, key)
    run_step(events, "Network", spec.name, ("Creating", "Created"), lambda: engine.networks.ensure_network(spec))


def ensure_volumes(engine: Engine, project: Project, keys: set[str], events: Events) -> dict[str, str]:
    """The host directory of each named volume in `keys` (by its key), made if missing."""
    paths = {}
    for key in sorted(keys):
        name = volume_name(project, key)
        volume = engine.volumes.get(name)
        declared = project.volumes.get(key)
        if volume is None:  # external ones were checked to exist before anything was made
            labels = {**(declared.labels if declared else {}), LABEL_PROJECT: project.name, LABEL_VOLUME: key}
            events.progress("Volume", name, "Creating")
            volume = engine.volumes.create(name, labels)
            events.progress("Volume", name, "Created")
        paths[key] = volume.mountpoint
    return paths
