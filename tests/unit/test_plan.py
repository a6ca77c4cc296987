"""Reconcile decisions, compared as rendered text (no host, no mocks)."""

from __future__ import annotations

from composer.plan import (
    DesiredNetwork,
    DesiredService,
    Observed,
    ObservedContainer,
    PlanOptions,
    plan_down,
    plan_up,
)

NET = DesiredNetwork("demo_default", "default")


def svc(name: str, h: str = "h1", deps: tuple[str, ...] = ()) -> DesiredService:
    return DesiredService(name, h, deps, ("demo_default",))


def running(service: str, h: str = "h1", status: str = "running") -> ObservedContainer:
    return ObservedContainer(f"id-{service}", f"demo-{service}-1", service, 1, h, status)


def test_first_up_creates_network_then_containers_in_order() -> None:
    plan = plan_up("demo", [svc("db"), svc("web", deps=("db",))], [NET], Observed())
    assert plan.render() == (
        "create-network demo_default: not found\n"
        "create demo-db-1: not found\n"
        "create demo-web-1: not found"
    )
    assert plan.changes_anything


def test_unchanged_second_up_keeps_everything() -> None:
    observed = Observed((running("db"), running("web")), frozenset({"demo_default"}))
    plan = plan_up("demo", [svc("db"), svc("web")], [NET], observed)
    assert plan.render() == (
        "keep demo-db-1: running and up to date\n"
        "keep demo-web-1: running and up to date"
    )
    assert not plan.changes_anything


def test_changed_service_alone_is_recreated() -> None:
    observed = Observed((running("db"), running("web")), frozenset({"demo_default"}))
    plan = plan_up("demo", [svc("db"), svc("web", h="h2")], [NET], observed)
    assert plan.render() == (
        "keep demo-db-1: running and up to date\n"
        "recreate demo-web-1: configuration changed"
    )
    assert plan.for_service("web").container_id == "id-web"


def test_exited_unchanged_container_is_started_not_recreated() -> None:
    observed = Observed((running("db", status="exited"),), frozenset({"demo_default"}))
    assert plan_up("demo", [svc("db")], [NET], observed).render() == "start demo-db-1: exited"


def test_no_recreate_and_force_recreate() -> None:
    observed = Observed((running("db"),), frozenset({"demo_default"}))
    changed = [svc("db", h="h2")]
    assert plan_up("demo", changed, [NET], observed, PlanOptions(no_recreate=True)).render() == (
        "keep demo-db-1: running and up to date"
    )
    assert plan_up("demo", [svc("db")], [NET], observed, PlanOptions(force_recreate=True)).render() == (
        "recreate demo-db-1: --force-recreate"
    )


def test_orphans_are_reported_and_removed_only_when_asked() -> None:
    observed = Observed((running("db"), running("old")), frozenset({"demo_default"}))
    warn = plan_up("demo", [svc("db")], [NET], observed)
    assert warn.render().splitlines()[-1] == (
        'warn-orphan demo-old-1: service "old" is not in the stack (run with --remove-orphans to remove it)'
    )
    assert not warn.changes_anything
    remove = plan_up("demo", [svc("db")], [NET], observed, PlanOptions(remove_orphans=True))
    assert remove.render().splitlines()[-1] == 'remove-orphan demo-old-1: service "old" is not in the stack'
    assert remove.changes_anything


def test_down_removes_dependents_first_then_networks_and_volumes() -> None:
    observed = Observed((running("db"), running("web")), frozenset({"demo_default"}))
    plan = plan_down("demo", observed, ["db", "web"], ["demo_default"], ["demo_data"])
    assert plan.render() == (
        "remove demo-web-1: running\n"
        "remove demo-db-1: running\n"
        "remove-network demo_default: project network\n"
        "remove-volume demo_data: -v given"
    )


def test_down_keeps_network_while_orphans_stay() -> None:
    observed = Observed((running("db"), running("old")), frozenset({"demo_default"}))
    plan = plan_down("demo", observed, ["db"], ["demo_default"])
    assert "remove-network" not in plan.render()
    assert "warn-orphan demo-old-1" in plan.render()
    plan = plan_down("demo", observed, ["db"], ["demo_default"], remove_orphans=True)
    assert plan.render().splitlines()[-1] == "remove-network demo_default: project network"


def test_down_without_stack_file_removes_every_project_container() -> None:
    observed = Observed((running("db"), running("web")), frozenset())
    assert plan_down("demo", observed, None, []).render() == (
        "remove demo-web-1: running\nremove demo-db-1: running"
    )


def test_external_networks_are_joined_never_created() -> None:
    external = DesiredNetwork("shared", "shared", external=True)
    plan = plan_up("demo", [svc("db")], [NET, external], Observed())
    assert plan.render().splitlines()[0] == "create-network demo_default: not found"
    assert "shared" not in plan.render()


def test_a_container_name_from_the_stack_is_used() -> None:
    named = DesiredService("db", "h1", (), ("demo_default",), container_name="my-database")
    assert plan_up("demo", [named], [NET], Observed()).render().splitlines()[-1] == "create my-database: not found"


def test_a_changed_network_is_recreated_with_every_container_on_it() -> None:
    front = DesiredNetwork("demo_front", "front", config_hash="new")
    back = DesiredNetwork("demo_back", "back", config_hash="same")
    services = [
        DesiredService("db", "h1", (), ("demo_back",)),
        DesiredService("web", "h1", ("db",), ("demo_front", "demo_back")),
    ]
    observed = Observed(
        (running("db"), running("web")),
        frozenset({"demo_front", "demo_back"}),
        {"demo_front": "old", "demo_back": "same"},
    )
    assert plan_up("demo", services, [front, back], observed).render() == (
        "recreate-network demo_front: configuration changed\n"
        "keep demo-db-1: running and up to date\n"
        'recreate demo-web-1: network "demo_front" is recreated'
    )
    # --no-recreate cannot keep a container on a network that goes away
    no_recreate = plan_up("demo", services, [front, back], observed, PlanOptions(no_recreate=True))
    assert no_recreate.for_service("web").verb == "recreate"  # type: ignore[union-attr]


def test_a_network_without_a_recorded_hash_or_a_fast_path_hash_is_kept() -> None:
    observed = Observed((running("web"),), frozenset({"demo_default"}), {"demo_default": ""})
    for net in (DesiredNetwork("demo_default", "default", config_hash="x"), NET):
        assert plan_up("demo", [svc("web")], [net], observed).render() == (
            "keep demo-web-1: running and up to date"
        )


def test_external_networks_are_never_recreated() -> None:
    net = DesiredNetwork("shared", "default", external=True, config_hash="x")
    observed = Observed((running("web"),), frozenset({"shared"}), {"shared": "y"})
    assert not plan_up("demo", [svc("web")], [net], observed).changes_anything


def test_sharing_a_netns_follows_its_owner_recreation() -> None:
    services = [
        DesiredService("db", "h2", (), ("demo_default",)),
        DesiredService("app", "h1", ("db",), (), netns_owner="db"),
        DesiredService("other", "h1", ("db",), ("demo_default",)),
    ]
    observed = Observed(
        (running("db"), running("app"), running("other")), frozenset({"demo_default"})
    )
    assert plan_up("demo", services, [NET], observed).render() == (
        "recreate demo-db-1: configuration changed\n"
        'recreate demo-app-1: joins the network namespace of service "db", which is recreated\n'
        "keep demo-other-1: running and up to date"
    )
