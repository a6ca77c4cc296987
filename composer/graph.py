"""The service dependency graph: start order and cycle detection.

Edges point from a dependency to its dependent, so a topological order is a start
order (and its reverse a stop order). Cycle detection and ordering are plain
Python so `pycompose config` does not pay for importing networkx; `build_graph`
gives the networkx view for callers that walk the DAG.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from composer.errors import GraphError

if TYPE_CHECKING:
    import networkx

    from composer.models import Project, Service


def netns_owner(service: Service) -> str | None:
    """The service whose network namespace `service` joins (`network_mode: service:NAME`)."""
    mode = service.network_mode or ""
    return mode.removeprefix("service:") if mode.startswith("service:") else None


def service_dependencies(service: Service) -> list[str]:
    """`depends_on`, plus the implicit dependency on a `network_mode: service:` owner."""
    owner = netns_owner(service)
    return [*service.depends_on, *([owner] if owner and owner not in service.depends_on else [])]


def dependencies(project: Project) -> dict[str, list[str]]:
    """service → the services it depends on (existing ones only), sorted."""
    return {
        name: sorted(dep for dep in service_dependencies(service) if dep in project.services)
        for name, service in project.services.items()
    }


def find_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as ``[a, b, c, a]`` (a depends on b ...), or None.

    Deterministic: services and their dependencies are visited in sorted order, so
    the same file always reports the same cycle.
    """
    graph = {name: sorted(set(targets)) for name, targets in deps.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None


def cycle_error(cycle: list[str], where: str | None = None) -> GraphError:
    if len(cycle) == 2:
        return GraphError(
            f"dependency cycle: {cycle[0]} -> {cycle[0]}",
            where=where,
            hint=f"service {cycle[0]} depends on itself",
        )
    return GraphError("dependency cycle: " + " -> ".join(cycle), where=where)


def check_acyclic(project: Project) -> None:
    cycle = find_cycle(dependencies(project))
    if cycle is not None:
        raise cycle_error(cycle)


def build_graph(project: Project) -> networkx.DiGraph[str]:
    """A node per service; an edge dependency → dependent carrying the DependsOn (None for
    the implicit dependency of `network_mode: service:`)."""
    import networkx

    check_acyclic(project)
    graph: networkx.DiGraph[str] = networkx.DiGraph()
    graph.add_nodes_from(sorted(project.services))
    for name in sorted(project.services):
        service = project.services[name]
        for dep in sorted(service_dependencies(service)):
            if dep in project.services:
                graph.add_edge(dep, name, depends_on=service.depends_on.get(dep))
    return graph


def start_order(project: Project) -> list[str]:
    """Services in an order that starts every dependency first.

    Among services that are ready at the same time the lexicographically smallest
    comes first, so the order is stable across runs.
    """
    deps = dependencies(project)
    cycle = find_cycle(deps)
    if cycle is not None:
        raise cycle_error(cycle)
    waiting = {name: len(targets) for name, targets in deps.items()}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, targets in deps.items():
        for target in targets:
            dependents[target].append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    return order
