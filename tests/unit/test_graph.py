"""Start order and cycle detection over depends_on."""

from __future__ import annotations

import pytest

from composer.errors import GraphError
from composer.graph import build_graph, find_cycle, start_order
from composer.models import DependsOn, Project, Service


def project(**deps: list[str]) -> Project:
    services = {
        name: Service(image="x", depends_on={d: DependsOn() for d in targets})
        for name, targets in deps.items()
    }
    return Project(name="p", working_dir="/p", services=services)


def test_start_order_is_topological_and_lexicographic() -> None:
    p = project(web=["api", "cache"], api=["db"], cache=[], db=[], worker=["db"])
    assert start_order(p) == ["cache", "db", "api", "web", "worker"]


def test_build_graph_edges_point_from_dependency_to_dependent() -> None:
    p = project(web=["db"], db=[])
    graph = build_graph(p)
    assert sorted(graph.nodes) == ["db", "web"]
    assert list(graph.edges) == [("db", "web")]
    assert graph.edges["db", "web"]["depends_on"] == DependsOn()


@pytest.mark.parametrize(
    ("deps", "message"),
    [
        ({"a": ["a"]}, "dependency cycle: a -> a (service a depends on itself)"),
        ({"a": ["b"], "b": ["a"]}, "dependency cycle: a -> b -> a"),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}, "dependency cycle: a -> b -> c -> a"),
        ({"z": ["y"], "y": ["x"], "x": ["y"]}, "dependency cycle: x -> y -> x"),
    ],
)
def test_cycles_name_every_service(deps: dict[str, list[str]], message: str) -> None:
    p = project(**deps)
    for fn in (start_order, build_graph):
        with pytest.raises(GraphError) as caught:
            fn(p)
        assert str(caught.value) == message


def test_find_cycle_ignores_unknown_services() -> None:
    assert find_cycle({"a": ["missing"]}) is None
